#include "structured/regex_compiler.h"

#include <memory>
#include <string>
#include <vector>

#include "util/error.h"

namespace pagedllm {
namespace {

struct RegexNode {
  enum Kind { kClass, kSeq, kAlt, kRepeat } kind = kSeq;
  CodePointSet chars;                               // kClass
  std::vector<std::unique_ptr<RegexNode>> children;  // kSeq, kAlt, kRepeat (one)
  int min = 0, max = -1;                            // kRepeat
};
using NodePtr = std::unique_ptr<RegexNode>;

NodePtr make_class(CodePointSet chars) {
  auto n = std::make_unique<RegexNode>();
  n->kind = RegexNode::kClass;
  n->chars = std::move(chars);
  return n;
}

class RegexParser {
 public:
  explicit RegexParser(std::string_view pattern) : p_(pattern) {}

  NodePtr parse_all(bool& anchored_start, bool& anchored_end) {
    anchored_start = consume('^');
    NodePtr n = parse_alt();
    anchored_end = false;
    if (pos_ < p_.size() && p_[pos_] == '$' && pos_ + 1 == p_.size()) {
      anchored_end = true;
      ++pos_;
    }
    if (pos_ < p_.size()) fail(p_[pos_] == ')' ? "an unbalanced ')'" : "an anchor or construct here");
    return n;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw_error(ErrorKind::kUnsupported, "regex '{}': {} at offset {} is not supported", std::string(p_), what, pos_);
  }
  bool consume(char c) {
    if (pos_ < p_.size() && p_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool at_end() const { return pos_ >= p_.size(); }

  NodePtr parse_alt() {
    auto alt = std::make_unique<RegexNode>();
    alt->kind = RegexNode::kAlt;
    alt->children.push_back(parse_seq());
    while (consume('|')) alt->children.push_back(parse_seq());
    if (alt->children.size() == 1) return std::move(alt->children[0]);
    return alt;
  }

  NodePtr parse_seq() {
    auto seq = std::make_unique<RegexNode>();
    seq->kind = RegexNode::kSeq;
    while (!at_end() && p_[pos_] != '|' && p_[pos_] != ')') {
      if (p_[pos_] == '$' && pos_ + 1 == p_.size()) break;
      seq->children.push_back(parse_quantified());
    }
    return seq;
  }

  int parse_int() {
    size_t start = pos_;
    long v = 0;
    while (!at_end() && isdigit(static_cast<unsigned char>(p_[pos_]))) {
      v = v * 10 + (p_[pos_++] - '0');
      if (v > 100000) fail("a repetition count over 100000");
    }
    if (pos_ == start) fail("a malformed {n,m} repetition");
    return int(v);
  }

  NodePtr parse_quantified() {
    NodePtr atom = parse_atom();
    while (!at_end()) {
      int min, max;
      const char c = p_[pos_];
      if (c == '*') {
        min = 0, max = -1;
      } else if (c == '+') {
        min = 1, max = -1;
      } else if (c == '?') {
        min = 0, max = 1;
      } else if (c == '{' && pos_ + 1 < p_.size() && isdigit(static_cast<unsigned char>(p_[pos_ + 1]))) {
        ++pos_;
        min = parse_int();
        max = min;
        if (consume(',')) max = (!at_end() && p_[pos_] == '}') ? -1 : parse_int();
        if (at_end() || p_[pos_] != '}') fail("a malformed {n,m} repetition");
        if (max >= 0 && max < min) fail("a repetition {n,m} with m < n");
      } else {
        break;
      }
      ++pos_;
      if (!at_end() && (p_[pos_] == '?' || p_[pos_] == '+')) ++pos_;
      auto rep = std::make_unique<RegexNode>();
      rep->kind = RegexNode::kRepeat;
      rep->min = min;
      rep->max = max;
      rep->children.push_back(std::move(atom));
      atom = std::move(rep);
    }
    return atom;
  }

  uint32_t parse_utf8_char() {
    const unsigned char c = p_[pos_];
    int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (pos_ + len > p_.size()) fail("invalid UTF-8");
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int i = 1; i < len; ++i) cp = (cp << 6) | (static_cast<unsigned char>(p_[pos_ + i]) & 0x3F);
    pos_ += len;
    return cp;
  }

  uint32_t parse_hex(int digits) {
    if (pos_ + digits > p_.size()) fail("a short hex escape");
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      const char h = p_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= h - '0';
      else if (h >= 'a' && h <= 'f') v |= h - 'a' + 10;
      else if (h >= 'A' && h <= 'F') v |= h - 'A' + 10;
      else fail("a bad hex digit");
    }
    return v;
  }

  // After a backslash: the set it denotes.
  CodePointSet parse_escape() {
    if (at_end()) fail("a trailing backslash");
    const char c = p_[pos_++];
    CodePointSet s;
    switch (c) {
      case 'd': s.add('0', '9'); return s;
      case 'D': s.add('0', '9'); return s.complement();
      case 'w': s.add('a', 'z'); s.add('A', 'Z'); s.add('0', '9'); s.add('_'); return s;
      case 'W': s.add('a', 'z'); s.add('A', 'Z'); s.add('0', '9'); s.add('_'); return s.complement();
      case 's': s.add(' '); s.add('\t', '\r'); return s;
      case 'S': s.add(' '); s.add('\t', '\r'); return s.complement();
      case 'n': s.add('\n'); return s;
      case 'r': s.add('\r'); return s;
      case 't': s.add('\t'); return s;
      case 'f': s.add('\f'); return s;
      case 'v': s.add('\v'); return s;
      case 'x': s.add(parse_hex(2)); return s;
      case 'u': s.add(parse_hex(4)); return s;
      default:
        if (isalnum(static_cast<unsigned char>(c))) {
          --pos_;
          fail(std::string("the escape \\") + c);
        }
        s.add(static_cast<unsigned char>(c));
        return s;
    }
  }

  CodePointSet parse_class() {
    const bool negated = consume('^');
    CodePointSet set;
    bool first = true;
    while (true) {
      if (at_end()) fail("an unterminated [ class");
      if (p_[pos_] == ']' && !first) {
        ++pos_;
        break;
      }
      first = false;
      if (p_[pos_] == '[' && pos_ + 1 < p_.size() && p_[pos_ + 1] == ':') fail("a POSIX [:class:]");
      CodePointSet item;
      bool single = true;
      uint32_t lo = 0;
      if (consume('\\')) {
        item = parse_escape();
        single = item.ranges().size() == 1 && item.ranges()[0].lo == item.ranges()[0].hi;
        lo = single ? item.ranges()[0].lo : 0;
      } else {
        lo = parse_utf8_char();
        item.add(lo);
      }
      if (single && pos_ + 1 < p_.size() && p_[pos_] == '-' && p_[pos_ + 1] != ']') {
        ++pos_;
        uint32_t hi;
        if (consume('\\')) {
          CodePointSet e = parse_escape();
          if (e.ranges().size() != 1 || e.ranges()[0].lo != e.ranges()[0].hi) fail("a class range ending in a set");
          hi = e.ranges()[0].lo;
        } else {
          hi = parse_utf8_char();
        }
        if (hi < lo) fail("a reversed class range");
        item.add(lo, hi);
      }
      set.add(item);
    }
    return negated ? set.complement() : set;
  }

  NodePtr parse_atom() {
    const char c = p_[pos_];
    if (c == '(') {
      ++pos_;
      if (consume('?')) {
        if (consume(':')) {
        } else if (consume('P') ? consume('<') : consume('<')) {
          if (!at_end() && (p_[pos_] == '=' || p_[pos_] == '!')) fail("a lookbehind");
          while (!at_end() && p_[pos_] != '>') ++pos_;
          if (!consume('>')) fail("an unterminated group name");
        } else {
          fail("a (? group other than (?: and (?<name>");
        }
      }
      NodePtr inner = parse_alt();
      if (!consume(')')) fail("an unterminated group");
      return inner;
    }
    if (c == '[') {
      ++pos_;
      return make_class(parse_class());
    }
    if (c == '.') {
      ++pos_;
      CodePointSet nl;
      nl.add('\n');
      return make_class(nl.complement());
    }
    if (c == '\\') {
      ++pos_;
      if (!at_end() && isdigit(static_cast<unsigned char>(p_[pos_])) && p_[pos_] != '0') fail("a backreference");
      if (!at_end() && (p_[pos_] == 'b' || p_[pos_] == 'B')) fail("a word boundary");
      return make_class(parse_escape());
    }
    if (c == '*' || c == '+' || c == '?' || (c == '{' && pos_ + 1 < p_.size() && isdigit(static_cast<unsigned char>(p_[pos_ + 1])))) {
      fail("a quantifier with nothing to repeat");
    }
    if (c == '^' || c == '$') fail("an anchor");
    CodePointSet s;
    s.add(parse_utf8_char());
    return make_class(s);
  }

  std::string_view p_;
  size_t pos_ = 0;
};

NfaFragment emit(ByteNfa& nfa, const RegexNode& n, const RegexOptions& options) {
  switch (n.kind) {
    case RegexNode::kClass: {
      if (options.allowed.empty()) return utf8_fragment(nfa, n.chars);
      CodePointSet s;  // n.chars intersected with options.allowed
      for (auto r : n.chars.ranges()) {
        for (auto a : options.allowed.ranges()) {
          const uint32_t lo = std::max(r.lo, a.lo), hi = std::min(r.hi, a.hi);
          if (lo <= hi) s.add(lo, hi);
        }
      }
      return utf8_fragment(nfa, s);
    }
    case RegexNode::kSeq: {
      std::vector<NfaFragment> parts;
      for (const auto& c : n.children) parts.push_back(emit(nfa, *c, options));
      return nfa.seq(parts);
    }
    case RegexNode::kAlt: {
      std::vector<NfaFragment> options_out;
      for (const auto& c : n.children) options_out.push_back(emit(nfa, *c, options));
      return nfa.alt(options_out);
    }
    case RegexNode::kRepeat: {
      const RegexNode& child = *n.children[0];
      return nfa.repeat([&] { return emit(nfa, child, options); }, n.min, n.max);
    }
  }
  return nfa.empty();
}

}  // namespace

NfaFragment compile_regex(ByteNfa& nfa, std::string_view pattern, const RegexOptions& options) {
  bool anchored_start = false, anchored_end = false;
  NodePtr root = RegexParser(pattern).parse_all(anchored_start, anchored_end);
  NfaFragment body = emit(nfa, *root, options);
  if (!options.search) return body;
  CodePointSet any = options.allowed.empty() ? CodePointSet().complement() : options.allowed;
  std::vector<NfaFragment> parts;
  if (!anchored_start) parts.push_back(nfa.star(utf8_fragment(nfa, any)));
  parts.push_back(body);
  if (!anchored_end) parts.push_back(nfa.star(utf8_fragment(nfa, any)));
  return nfa.seq(parts);
}

}  // namespace pagedllm
