#include "jinja/lexer.h"

#include <fmt/format.h>

#include <cstring>

#include "jinja/unicode.h"
#include "jinja/value.h"

namespace pagedllm::jinja {
namespace {

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

// Newlines normalized to \n, one trailing newline removed (jinja2's keep_trailing_newline=False).
std::string normalize_source(const std::string& source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out.push_back(source[i]);
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Python's "unicode-escape" decoding of a string literal body, as jinja2 applies it.
std::string unescape_string(const std::string& body, int line) {
  std::string out;
  const std::u32string u = utf8_decode(body);
  for (size_t i = 0; i < u.size(); ++i) {
    if (u[i] != '\\') {
      utf8_append(out, u[i]);
      continue;
    }
    if (i + 1 >= u.size()) fail(fmt::format("line {}: \\ at end of string", line));
    const char32_t c = u[++i];
    auto read_hex = [&](int num_digits, const char* what) {
      char32_t value = 0;
      for (int k = 0; k < num_digits; ++k) {
        const char32_t h = i + 1 < u.size() ? u[i + 1] : 0;
        const int d = (h >= '0' && h <= '9') ? int(h - '0') : (h >= 'a' && h <= 'f') ? int(h - 'a' + 10)
                      : (h >= 'A' && h <= 'F') ? int(h - 'A' + 10) : -1;
        if (d < 0) fail(fmt::format("line {}: truncated {} escape", line, what));
        value = value * 16 + d;
        ++i;
      }
      return value;
    };
    switch (c) {
      case '\n': break;
      case '\\': out.push_back('\\'); break;
      case '\'': out.push_back('\''); break;
      case '"': out.push_back('"'); break;
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case 'x': utf8_append(out, read_hex(2, "\\xXX")); break;
      case 'u': utf8_append(out, read_hex(4, "\\uXXXX")); break;
      case 'U': {
        const char32_t cp = read_hex(8, "\\UXXXXXXXX");
        if (cp > 0x10FFFF) fail(fmt::format("line {}: illegal Unicode character", line));
        utf8_append(out, cp);
        break;
      }
      case 'N': fail(fmt::format("line {}: \\N{{...}} escapes are not supported", line));
      default:
        if (c >= '0' && c <= '7') {
          char32_t value = c - '0';
          for (int k = 0; k < 2 && i + 1 < u.size() && u[i + 1] >= '0' && u[i + 1] <= '7'; ++k) value = value * 8 + (u[++i] - '0');
          utf8_append(out, value);
        } else if (c >= 0x80) {
          // jinja2 first backslash-escapes non-ASCII characters, so "\é" decodes to the text "\xe9".
          out += c < 0x100 ? fmt::format("\\x{:02x}", uint32_t(c))
                 : c < 0x10000 ? fmt::format("\\u{:04x}", uint32_t(c)) : fmt::format("\\U{:08x}", uint32_t(c));
        } else {
          out.push_back('\\');
          utf8_append(out, c);
        }
    }
  }
  return out;
}

class Lexer {
 public:
  explicit Lexer(const std::string& source) : src_(normalize_source(source)) {}

  std::vector<Token> run() {
    while (pos_ < src_.size()) lex_root_step();
    emit(TokenKind::kEof, "");
    return std::move(out_);
  }

 private:
  bool starts_with(size_t p, const char* s) const { return src_.compare(p, std::strlen(s), s) == 0; }

  void advance_to(size_t p) {
    for (size_t i = pos_; i < p; ++i) line_ += src_[i] == '\n';
    pos_ = p;
  }

  void emit(TokenKind kind, std::string text) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.line = line_;
    out_.push_back(std::move(t));
  }

  void emit_data(std::string text, int line) {
    if (text.empty()) return;
    Token t;
    t.kind = TokenKind::kData;
    t.text = std::move(text);
    t.line = line;
    out_.push_back(std::move(t));
  }

  size_t skip_space(size_t p) const {
    while (p < src_.size() && is_ascii_space(src_[p])) ++p;
    return p;
  }

  // Whitespace control of the text before a tag: '-' strips it all, otherwise lstrip_blocks strips the
  // spaces between the line start and a block/comment tag.
  std::string strip_before_tag(std::string text, char sign, bool is_variable) const {
    if (sign == '-') return py_strip(text, nullptr, false, true);
    if (sign == '+' || is_variable) return text;
    const size_t newline = text.rfind('\n');
    const size_t l_pos = newline == std::string::npos ? 0 : newline + 1;
    if (l_pos == 0 && !line_starting_) return text;
    if (l_pos == text.size()) return text;
    const std::u32string tail = utf8_decode(std::string_view(text).substr(l_pos));
    for (char32_t cp : tail)
      if (!is_py_space(cp)) return text;
    text.resize(l_pos);
    return text;
  }

  // End of `{% raw %}` / `{%- raw -%}` starting at p (which holds "{%"), or npos.
  size_t match_raw_begin(size_t p) const {
    p += 2;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
    p = skip_space(p);
    if (!starts_with(p, "raw")) return std::string::npos;
    p = skip_space(p + 3);
    if (starts_with(p, "-%}")) return skip_space(p + 3);
    if (starts_with(p, "%}")) return p + 2;
    return std::string::npos;
  }

  void lex_root_step() {
    size_t k = pos_;
    while (true) {
      k = src_.find('{', k);
      if (k == std::string::npos || k + 1 >= src_.size()) {
        emit_data(src_.substr(pos_), line_);
        advance_to(src_.size());
        return;
      }
      const char c = src_[k + 1];
      if (c == '%' || c == '{' || c == '#') break;
      ++k;
    }
    const char kind = src_[k + 1];
    const char sign = k + 2 < src_.size() && (src_[k + 2] == '-' || src_[k + 2] == '+') ? src_[k + 2] : 0;
    const int data_line = line_;
    emit_data(strip_before_tag(src_.substr(pos_, k - pos_), sign, kind == '{'), data_line);
    if (kind == '%') {
      const size_t raw_end = match_raw_begin(k);
      if (raw_end != std::string::npos) {
        advance_to(raw_end);
        line_starting_ = src_[raw_end - 1] == '\n';
        lex_raw();
        return;
      }
    }
    advance_to(k + 2 + (sign ? 1 : 0));
    line_starting_ = false;
    if (kind == '#') {
      lex_comment();
    } else {
      emit(kind == '%' ? TokenKind::kBlockBegin : TokenKind::kVariableBegin, "");
      lex_tag(kind == '%');
    }
  }

  // Consumes a tag end at p of the given form; returns the position after it, or npos.
  size_t match_tag_end(size_t p, const char* close, bool is_block) const {
    const std::string plus = std::string("+") + close;
    const std::string minus = std::string("-") + close;
    if (is_block && starts_with(p, plus.c_str())) return p + plus.size();
    if (starts_with(p, minus.c_str())) return skip_space(p + minus.size());
    if (starts_with(p, close)) {
      p += std::strlen(close);
      if (is_block && p < src_.size() && src_[p] == '\n') ++p;  // trim_blocks
      return p;
    }
    return std::string::npos;
  }

  void lex_raw() {
    for (size_t i = src_.find("{%", pos_); i != std::string::npos; i = src_.find("{%", i + 1)) {
      size_t p = i + 2;
      const char sign = p < src_.size() && (src_[p] == '-' || src_[p] == '+') ? src_[p] : 0;
      if (sign) ++p;
      p = skip_space(p);
      if (!starts_with(p, "endraw")) continue;
      const size_t end = match_tag_end(skip_space(p + 6), "%}", true);
      if (end == std::string::npos) continue;
      const int data_line = line_;
      emit_data(strip_before_tag(src_.substr(pos_, i - pos_), sign, false), data_line);
      advance_to(end);
      line_starting_ = src_[end - 1] == '\n';
      return;
    }
    fail(fmt::format("line {}: Missing end of raw directive", line_));
  }

  void lex_comment() {
    for (size_t j = src_.find("#}", pos_); j != std::string::npos; j = src_.find("#}", j + 1)) {
      const size_t start = j > pos_ && (src_[j - 1] == '-' || src_[j - 1] == '+') ? j - 1 : j;
      const size_t end = match_tag_end(start, "#}", true);
      advance_to(end);
      line_starting_ = src_[end - 1] == '\n';
      return;
    }
    fail(fmt::format("line {}: Missing end of comment tag", line_));
  }

  void lex_tag(bool is_block) {
    std::vector<char> balance;
    while (pos_ < src_.size()) {
      if (balance.empty()) {
        const size_t end = match_tag_end(pos_, is_block ? "%}" : "}}", is_block);
        if (end != std::string::npos) {
          emit(is_block ? TokenKind::kBlockEnd : TokenKind::kVariableEnd, "");
          advance_to(end);
          line_starting_ = src_[end - 1] == '\n';
          return;
        }
      }
      const char c = src_[pos_];
      if (is_ascii_space(c)) {
        advance_to(skip_space(pos_));
      } else if (is_digit(c)) {
        lex_number();
      } else if (is_name_start(c)) {
        size_t p = pos_;
        while (p < src_.size() && is_name_char(src_[p])) ++p;
        emit(TokenKind::kName, src_.substr(pos_, p - pos_));
        advance_to(p);
      } else if (c == '\'' || c == '"') {
        lex_string(c);
      } else {
        lex_operator(balance);
      }
    }
  }

  size_t scan_digits(size_t p) const {  // (\d+_)*\d+ ; returns p if none
    size_t q = p;
    while (q < src_.size() && is_digit(src_[q])) {
      while (q < src_.size() && is_digit(src_[q])) ++q;
      if (q + 1 < src_.size() && src_[q] == '_' && is_digit(src_[q + 1])) ++q;
    }
    return q;
  }

  void lex_number() {
    auto strip_underscores = [](std::string s) {
      s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
      return s;
    };
    // Float: digits, then ".digits" and/or an exponent; never right after a '.' (so x.0.1 stays an item chain).
    const bool after_dot = pos_ > 0 && src_[pos_ - 1] == '.';
    size_t p = scan_digits(pos_);
    size_t q = p;
    bool is_float = false;
    if (!after_dot) {
      if (q < src_.size() && src_[q] == '.' && scan_digits(q + 1) > q + 1) {
        q = scan_digits(q + 1);
        is_float = true;
      }
      if (q < src_.size() && (src_[q] == 'e' || src_[q] == 'E')) {
        size_t e = q + 1;
        if (e < src_.size() && (src_[e] == '+' || src_[e] == '-')) ++e;
        if (scan_digits(e) > e) {
          q = scan_digits(e);
          is_float = true;
        }
      }
    }
    if (is_float) {
      Token t;
      t.kind = TokenKind::kFloat;
      t.text = src_.substr(pos_, q - pos_);
      t.float_value = std::stod(strip_underscores(t.text));
      t.line = line_;
      out_.push_back(t);
      advance_to(q);
      return;
    }
    int base = 10;
    size_t start = pos_;
    if (src_[pos_] == '0' && pos_ + 1 < src_.size()) {
      const char x = src_[pos_ + 1] | 0x20;
      base = x == 'b' ? 2 : x == 'o' ? 8 : x == 'x' ? 16 : 10;
    }
    if (base != 10) {
      start = pos_ + 2;
      q = start;
      auto is_base_digit = [&](char ch) {
        const char l = ch | 0x20;
        return base == 2 ? (ch == '0' || ch == '1') : base == 8 ? (ch >= '0' && ch <= '7')
                                                     : (is_digit(ch) || (l >= 'a' && l <= 'f'));
      };
      while (q < src_.size() && (is_base_digit(src_[q]) || (src_[q] == '_' && q + 1 < src_.size() && is_base_digit(src_[q + 1])))) ++q;
      if (q == start) {  // "0x" without digits: the integer 0 followed by a name
        base = 10;
        start = pos_;
        q = pos_ + 1;
      }
    } else if (src_[pos_] == '0') {
      q = pos_ + 1;
      while (q + 1 < src_.size() && (src_[q] == '0' || (src_[q] == '_' && src_[q + 1] == '0'))) ++q;
      if (q < src_.size() && src_[q] == '0') ++q;
    }
    Token t;
    t.kind = TokenKind::kInteger;
    t.text = src_.substr(pos_, q - pos_);
    const std::string digits = strip_underscores(src_.substr(start, q - start));
    errno = 0;
    const unsigned long long v = std::strtoull(digits.c_str(), nullptr, base);
    if (errno == ERANGE || v > static_cast<unsigned long long>(INT64_MAX))
      fail(fmt::format("line {}: integer literal {} is too large", line_, t.text));
    t.int_value = static_cast<int64_t>(v);
    t.line = line_;
    out_.push_back(t);
    advance_to(q);
  }

  void lex_string(char quote) {
    size_t p = pos_ + 1;
    while (p < src_.size() && src_[p] != quote) p += src_[p] == '\\' ? 2 : 1;
    if (p >= src_.size()) fail(fmt::format("line {}: unexpected char {} at {}", line_, quote == '"' ? "'\"'" : "\"'\"", pos_));
    emit(TokenKind::kString, unescape_string(src_.substr(pos_ + 1, p - pos_ - 1), line_));
    advance_to(p + 1);
  }

  void lex_operator(std::vector<char>& balance) {
    static const char* const kTwoChar[] = {"//", "**", "==", "!=", ">=", "<="};
    for (const char* op : kTwoChar) {
      if (starts_with(pos_, op)) {
        emit(TokenKind::kOperator, op);
        advance_to(pos_ + 2);
        return;
      }
    }
    const char c = src_[pos_];
    if (std::strchr("+-/*%~[](){}><=.:|,;", c) == nullptr) {
      fail(fmt::format("line {}: unexpected char {} at {}", line_, python_string_repr(std::string(1, c)), pos_));
    }
    if (c == '{' || c == '(' || c == '[') balance.push_back(c == '{' ? '}' : c == '(' ? ')' : ']');
    if (c == '}' || c == ')' || c == ']') {
      if (balance.empty()) fail(fmt::format("line {}: unexpected '{}'", line_, c));
      if (balance.back() != c) fail(fmt::format("line {}: unexpected '{}', expected '{}'", line_, c, balance.back()));
      balance.pop_back();
    }
    emit(TokenKind::kOperator, std::string(1, c));
    advance_to(pos_ + 1);
  }

  std::string src_;
  size_t pos_ = 0;
  int line_ = 1;
  bool line_starting_ = true;
  std::vector<Token> out_;
};

}  // namespace

std::vector<Token> tokenize(const std::string& source) { return Lexer(source).run(); }

}  // namespace pagedllm::jinja
