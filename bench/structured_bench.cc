// Structured-output costs on a real vocabulary (a program, not a test):
//   build/structured_bench TOKENIZER_DIR [num_properties]
// Prints the vocabulary trie build time, the compile time of a num_properties-property schema (DFA), the cold
// cost of a token mask (first visit of a state: a trie walk) and the warm per-token cost the engine pays each
// step (cache lookup + applying the mask to the logits).
#include <chrono>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "sampling/sampler.h"
#include "structured/structured_output.h"
#include "util/rng.h"

using namespace pagedllm;
using Clock = std::chrono::steady_clock;

static double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: structured_bench TOKENIZER_DIR [num_properties]\n");
    return 2;
  }
  const int num_properties = argc > 2 ? std::stoi(argv[2]) : 100;
  auto tokenizer = Tokenizer::from_path(argv[1]);
  auto t0 = Clock::now();
  auto vocabulary = std::make_shared<TokenVocabulary>(*tokenizer, tokenizer->vocab_size(), std::vector<int32_t>{*tokenizer->eos_token_id()});
  std::printf("vocabulary: %d tokens, %zu trie nodes, built in %.1f ms\n", vocabulary->vocab_size(), vocabulary->trie().size(), ms_since(t0));

  nlohmann::ordered_json props = nlohmann::ordered_json::object();
  const char* kinds[] = {R"({"type":"integer","minimum":0,"maximum":1000})", R"({"type":"string","maxLength":16})",
                         R"({"type":"boolean"})", R"({"type":"array","items":{"type":"number"},"maxItems":4})",
                         R"({"type":"object","properties":{"a":{"type":"string","maxLength":8},"b":{"type":["integer","null"]}},"required":["a"]})"};
  nlohmann::ordered_json required = nlohmann::ordered_json::array();
  for (int i = 0; i < num_properties; ++i) {
    props["property_" + std::to_string(i)] = nlohmann::ordered_json::parse(kinds[i % 5]);
    if (i % 2 == 0) required.push_back("property_" + std::to_string(i));
  }
  StructuredOutputsParams params;
  params.json = nlohmann::ordered_json{{"type", "object"}, {"properties", props}, {"required", required}}.dump();
  t0 = Clock::now();
  StructuredOutputCompiler compiler(vocabulary);
  auto constraint = compiler.compile(params);
  std::printf("schema with %d properties: %d DFA states, compiled in %.1f ms\n", num_properties, constraint->dfa().num_states(), ms_since(t0));

  // Walk one random path through the constraint, timing each first-visit mask and then the warm masks.
  Rng rng(1);
  SamplingParams sp;
  std::vector<float> logits(vocabulary->vocab_size());
  const int kSteps = 400;
  double cold_ms = 0, warm_ms = 0, sample_ms = 0;
  int steps = 0;
  ConstraintMatcher matcher(constraint);
  std::vector<int32_t> path;
  for (; steps < kSteps && !matcher.is_terminated(); ++steps) {
    auto t = Clock::now();
    const uint64_t* mask = matcher.allowed_tokens();
    cold_ms += ms_since(t);
    for (auto& x : logits) x = float(rng.normal());
    t = Clock::now();
    SamplingContext ctx{&sp, {}, {}, {}, &rng};
    ctx.allowed_token_mask = mask;
    const int32_t token = sample_token(logits.data(), vocabulary->vocab_size(), ctx).token_id;
    sample_ms += ms_since(t);
    if (!bitmask_has(mask, token) || vocabulary->token_bytes(token).empty()) break;
    path.push_back(token);
    matcher.accept_token(token);
  }
  ConstraintMatcher again(constraint);
  auto t = Clock::now();
  for (int32_t token : path) {
    const uint64_t* mask = again.allowed_tokens();
    for (auto& x : logits) x = 0.0f;
    for (int64_t w = 0; w * 64 < vocabulary->vocab_size(); ++w) {
      const uint64_t word = mask[w];
      if (word == ~uint64_t(0)) continue;
      for (int64_t i = w * 64; i < std::min<int64_t>(vocabulary->vocab_size(), w * 64 + 64); ++i) {
        if (!((word >> (i & 63)) & 1)) logits[i] = -1e30f;
      }
    }
    again.accept_token(token);
  }
  warm_ms = ms_since(t);
  std::printf("%d steps: cold mask %.3f ms/token (first visit of each state), warm mask+apply %.4f ms/token, sampling %.3f ms/token\n",
              steps, cold_ms / steps, warm_ms / std::max<size_t>(path.size(), 1), sample_ms / steps);
  return 0;
}
