#include "structured/grammar_compiler.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "structured/regex_compiler.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace pagedllm {
namespace {

struct GrammarNode {
  enum Kind { kLiteral, kClass, kRef, kSeq, kAlt, kRepeat } kind = kSeq;
  std::string text;  // kLiteral: bytes; kClass: the "[...]" source; kRef: the rule name
  std::vector<std::unique_ptr<GrammarNode>> children;
  int min = 0, max = -1;
};
using NodePtr = std::unique_ptr<GrammarNode>;

class GbnfParser {
 public:
  explicit GbnfParser(std::string_view src) : s_(src) {}

  std::map<std::string, NodePtr> parse() {
    std::map<std::string, NodePtr> rules;
    skip_space(true);
    while (pos_ < s_.size()) {
      const std::string name = parse_name();
      skip_space(false);
      if (s_.compare(pos_, 3, "::=") != 0) fail("expected '::=' after rule name '" + name + "'");
      pos_ += 3;
      if (rules.count(name)) fail("rule '" + name + "' is defined twice");
      rules[name] = parse_alt();
      skip_space(true);
    }
    return rules;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    int line = 1;
    for (size_t i = 0; i < pos_ && i < s_.size(); ++i) line += s_[i] == '\n';
    throw_error(ErrorKind::kInvalidArgument, "grammar line {}: {}", line, what);
  }
  static bool is_name_char(char c) { return isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }

  // Whitespace and comments; newlines only when `newlines` (inside a rule a newline may end it).
  void skip_space(bool newlines) {
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\r' || (newlines && c == '\n')) {
        ++pos_;
      } else {
        break;
      }
    }
  }
  // True when the next line starts a new rule (`name ::=`), so a newline ends the current one.
  bool at_rule_start() const {
    size_t p = pos_;
    while (p < s_.size() && (s_[p] == ' ' || s_[p] == '\t' || s_[p] == '\n' || s_[p] == '\r')) ++p;
    size_t q = p;
    while (q < s_.size() && is_name_char(s_[q])) ++q;
    if (q == p) return false;
    while (q < s_.size() && (s_[q] == ' ' || s_[q] == '\t')) ++q;
    return s_.compare(q, 3, "::=") == 0;
  }
  void skip_in_rule() {
    while (true) {
      skip_space(false);
      if (pos_ < s_.size() && s_[pos_] == '\n' && !at_rule_start()) {
        ++pos_;
        continue;
      }
      return;
    }
  }

  std::string parse_name() {
    const size_t start = pos_;
    while (pos_ < s_.size() && is_name_char(s_[pos_])) ++pos_;
    if (pos_ == start) fail("expected a rule name");
    return std::string(s_.substr(start, pos_ - start));
  }

  NodePtr parse_alt() {
    auto alt = std::make_unique<GrammarNode>();
    alt->kind = GrammarNode::kAlt;
    alt->children.push_back(parse_seq());
    while (pos_ < s_.size() && s_[pos_] == '|') {
      ++pos_;
      alt->children.push_back(parse_seq());
    }
    return alt;
  }

  NodePtr parse_seq() {
    auto seq = std::make_unique<GrammarNode>();
    seq->kind = GrammarNode::kSeq;
    while (true) {
      skip_in_rule();
      if (pos_ >= s_.size() || s_[pos_] == '|' || s_[pos_] == ')' || s_[pos_] == '\n') break;
      seq->children.push_back(parse_quantified());
    }
    return seq;
  }

  int parse_int() {
    const size_t start = pos_;
    int v = 0;
    while (pos_ < s_.size() && isdigit(static_cast<unsigned char>(s_[pos_]))) v = v * 10 + (s_[pos_++] - '0');
    if (pos_ == start || v > 100000) fail("a malformed {n,m} repetition");
    return v;
  }

  NodePtr parse_quantified() {
    NodePtr atom = parse_atom();
    while (pos_ < s_.size()) {
      int min, max;
      const char c = s_[pos_];
      if (c == '*') min = 0, max = -1;
      else if (c == '+') min = 1, max = -1;
      else if (c == '?') min = 0, max = 1;
      else if (c == '{') {
        ++pos_;
        skip_space(false);
        min = parse_int();
        max = min;
        skip_space(false);
        if (pos_ < s_.size() && s_[pos_] == ',') {
          ++pos_;
          skip_space(false);
          max = pos_ < s_.size() && s_[pos_] == '}' ? -1 : parse_int();
          skip_space(false);
        }
        if (pos_ >= s_.size() || s_[pos_] != '}') fail("a malformed {n,m} repetition");
        if (max >= 0 && max < min) fail("a repetition {n,m} with m < n");
      } else {
        break;
      }
      ++pos_;
      auto rep = std::make_unique<GrammarNode>();
      rep->kind = GrammarNode::kRepeat;
      rep->min = min;
      rep->max = max;
      rep->children.push_back(std::move(atom));
      atom = std::move(rep);
    }
    return atom;
  }

  uint32_t parse_hex(int digits) {
    if (pos_ + digits > s_.size()) fail("a short hex escape");
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      const char h = s_[pos_++];
      if (!isxdigit(static_cast<unsigned char>(h))) fail("a bad hex digit");
      v = v * 16 + (isdigit(static_cast<unsigned char>(h)) ? h - '0' : (tolower(h) - 'a' + 10));
    }
    return v;
  }

  NodePtr parse_atom() {
    auto node = std::make_unique<GrammarNode>();
    const char c = s_[pos_];
    if (c == '"') {
      node->kind = GrammarNode::kLiteral;
      ++pos_;
      while (true) {
        if (pos_ >= s_.size() || s_[pos_] == '\n') fail("an unterminated string literal");
        char ch = s_[pos_++];
        if (ch == '"') break;
        if (ch != '\\') {
          node->text.push_back(ch);
          continue;
        }
        if (pos_ >= s_.size()) fail("a trailing backslash");
        const char e = s_[pos_++];
        switch (e) {
          case 'n': node->text.push_back('\n'); break;
          case 'r': node->text.push_back('\r'); break;
          case 't': node->text.push_back('\t'); break;
          case '\\': case '"': case '[': case ']': node->text.push_back(e); break;
          case 'x': append_utf8(node->text, parse_hex(2)); break;
          case 'u': append_utf8(node->text, parse_hex(4)); break;
          default: fail(std::string("the escape \\") + e);
        }
      }
      return node;
    }
    if (c == '[') {
      node->kind = GrammarNode::kClass;
      const size_t start = pos_++;
      if (pos_ < s_.size() && s_[pos_] == '^') ++pos_;
      if (pos_ < s_.size() && s_[pos_] == ']') ++pos_;
      while (pos_ < s_.size() && s_[pos_] != ']') pos_ += s_[pos_] == '\\' ? 2 : 1;
      if (pos_ >= s_.size()) fail("an unterminated [ class");
      ++pos_;
      node->text = std::string(s_.substr(start, pos_ - start));
      return node;
    }
    if (c == '(') {
      ++pos_;
      NodePtr inner = parse_alt();
      skip_in_rule();
      if (pos_ >= s_.size() || s_[pos_] != ')') fail("an unterminated group");
      ++pos_;
      return inner;
    }
    if (c == '.') {
      ++pos_;
      node->kind = GrammarNode::kClass;
      node->text = "[^\\n]";
      return node;
    }
    if (is_name_char(c)) {
      node->kind = GrammarNode::kRef;
      node->text = parse_name();
      return node;
    }
    fail(std::string("unexpected '") + c + "'");
  }

  std::string_view s_;
  size_t pos_ = 0;
};

class GbnfEmitter {
 public:
  GbnfEmitter(ByteNfa& nfa, const std::map<std::string, NodePtr>& rules, int max_depth)
      : nfa_(nfa), rules_(rules), max_depth_(max_depth) {}

  NfaFragment rule(const std::string& name) {
    auto it = rules_.find(name);
    if (it == rules_.end()) throw_error(ErrorKind::kInvalidArgument, "grammar: rule '{}' is used but not defined", name);
    int& depth = depth_[name];
    if (depth > max_depth_) return nfa_.alt({});
    ++depth;
    NfaFragment f = emit(*it->second);
    --depth;
    return f;
  }

 private:
  NfaFragment emit(const GrammarNode& n) {
    switch (n.kind) {
      case GrammarNode::kLiteral: return nfa_.literal(n.text);
      case GrammarNode::kClass: return compile_regex(nfa_, n.text);
      case GrammarNode::kRef: return rule(n.text);
      case GrammarNode::kSeq: {
        std::vector<NfaFragment> parts;
        for (const auto& c : n.children) parts.push_back(emit(*c));
        return nfa_.seq(parts);
      }
      case GrammarNode::kAlt: {
        std::vector<NfaFragment> options;
        for (const auto& c : n.children) options.push_back(emit(*c));
        return nfa_.alt(options);
      }
      case GrammarNode::kRepeat: {
        const GrammarNode& child = *n.children[0];
        return nfa_.repeat([&] { return emit(child); }, n.min, n.max);
      }
    }
    return nfa_.empty();
  }

  ByteNfa& nfa_;
  const std::map<std::string, NodePtr>& rules_;
  int max_depth_;
  std::map<std::string, int> depth_;
};

}  // namespace

NfaFragment compile_gbnf(ByteNfa& nfa, std::string_view grammar, int max_recursion_depth) {
  std::map<std::string, NodePtr> rules = GbnfParser(grammar).parse();
  if (!rules.count("root")) throw_error(ErrorKind::kInvalidArgument, "grammar: there is no 'root' rule");
  return GbnfEmitter(nfa, rules, max_recursion_depth).rule("root");
}

}  // namespace pagedllm
