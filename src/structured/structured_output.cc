#include "structured/structured_output.h"

#include <algorithm>

#include "structured/grammar_compiler.h"
#include "structured/json_schema_compiler.h"
#include "structured/regex_compiler.h"
#include "util/error.h"

namespace pagedllm {

std::shared_ptr<const ByteDfa> compile_structured_output(const StructuredOutputsParams& params, int max_recursion_depth) {
  if (params.num_kinds() != 1) {
    throw_error(ErrorKind::kInvalidArgument, "structured outputs must set exactly one of json, json_object, regex, choice and grammar");
  }
  ByteNfa nfa;
  NfaFragment f;
  JsonSchemaOptions json_options;
  json_options.any_whitespace = params.any_whitespace;
  json_options.max_recursion_depth = max_recursion_depth;
  if (params.json) {
    nlohmann::ordered_json schema = nlohmann::ordered_json::parse(*params.json, nullptr, false);
    if (schema.is_discarded()) throw_error(ErrorKind::kInvalidArgument, "the JSON schema is not valid JSON");
    f = compile_json_schema(nfa, schema, json_options);
  } else if (params.json_object) {
    f = compile_any_json_object(nfa, json_options);
  } else if (params.regex) {
    f = compile_regex(nfa, *params.regex);
  } else if (!params.choice.empty()) {
    std::vector<NfaFragment> options;
    for (const auto& c : params.choice) options.push_back(nfa.literal(c));
    f = nfa.alt(options);
  } else {
    f = compile_gbnf(nfa, *params.grammar, max_recursion_depth);
  }
  return std::make_shared<ByteDfa>(nfa, f);
}

StructuredOutputCompiler::StructuredOutputCompiler(std::shared_ptr<const TokenVocabulary> vocabulary, size_t max_cached,
                                                   int max_recursion_depth)
    : vocabulary_(std::move(vocabulary)), max_cached_(max_cached), max_recursion_depth_(max_recursion_depth) {
  if (max_recursion_depth < 1 || max_recursion_depth > kMaxRecursionDepth) {
    throw_error(ErrorKind::kInvalidArgument, "the structured-output recursion depth must be in [1, {}], got {}",
                kMaxRecursionDepth, max_recursion_depth);
  }
}

std::shared_ptr<CompiledConstraint> StructuredOutputCompiler::compile(const StructuredOutputsParams& params) {
  const std::string key = params.cache_key();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = cache_.find(key); it != cache_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.second);
      return it->second.first;
    }
  }
  auto compiled = std::make_shared<CompiledConstraint>(compile_structured_output(params, max_recursion_depth_), vocabulary_);
  std::lock_guard<std::mutex> lock(mutex_);
  if (cache_.count(key)) return cache_[key].first;
  lru_.push_front(key);
  cache_[key] = {compiled, lru_.begin()};
  if (cache_.size() > max_cached_) {
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
  return compiled;
}

ConstraintMatcher::ConstraintMatcher(std::shared_ptr<CompiledConstraint> constraint)
    : constraint_(std::move(constraint)), state_(constraint_->dfa().start()) {}

const uint64_t* ConstraintMatcher::allowed_tokens() {
  if (done_) return nullptr;
  return constraint_->masks().mask(state_);
}

void ConstraintMatcher::accept_token(int32_t token) {
  if (done_) return;
  const TokenVocabulary& v = constraint_->masks().vocabulary();
  const auto& eos = v.eos_token_ids();
  if (std::find(eos.begin(), eos.end(), token) != eos.end() || token < 0 || token >= v.vocab_size()) {
    done_ = true;
    return;
  }
  const int next = constraint_->dfa().walk(state_, v.token_bytes(token));
  if (next == ByteDfa::kDead || v.token_bytes(token).empty()) {
    done_ = true;
    return;
  }
  state_ = next;
}

bool ConstraintMatcher::is_terminated() const { return !done_ && constraint_->dfa().is_final(state_); }

bool ConstraintMatcher::is_complete() const { return !done_ && constraint_->dfa().is_accepting(state_); }

}  // namespace pagedllm
