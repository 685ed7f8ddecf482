// Samples structured outputs as a random-weight model would: at every step the logits are fresh N(0, 1) noise,
// masked by the constraint and drawn at temperature 1 by the engine's sampler. Writes one JSON line per sample:
//   {"schema": i, "tokenizer": NAME, "text": ..., "finished": bool}  or  {"schema": i, "error": ...}
// usage: structured_sample TOKENIZER_DIR SCHEMAS_JSON SAMPLES_PER_SCHEMA MAX_TOKENS SEED
#include <cstdio>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "sampling/sampler.h"
#include "structured/structured_output.h"
#include "tokenizer/utf8.h"
#include "util/error.h"
#include "util/mapped_file.h"
#include "util/rng.h"

using namespace pagedllm;

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: structured_sample TOKENIZER_DIR SCHEMAS_JSON SAMPLES_PER_SCHEMA MAX_TOKENS SEED\n";
    return 2;
  }
  const std::string tokenizer_dir = argv[1];
  const std::string name = tokenizer_dir.substr(tokenizer_dir.find_last_of('/') + 1);
  auto tokenizer = Tokenizer::from_path(tokenizer_dir);
  std::vector<int32_t> eos;
  if (auto id = tokenizer->eos_token_id()) eos.push_back(*id);
  auto vocabulary = std::make_shared<TokenVocabulary>(*tokenizer, tokenizer->vocab_size(), eos);
  StructuredOutputCompiler compiler(vocabulary);
  const nlohmann::json schemas = nlohmann::json::parse(read_text_file(argv[2]));
  const int samples = std::stoi(argv[3]), max_tokens = std::stoi(argv[4]);
  Rng rng(std::stoull(argv[5]));
  const int32_t vocab = vocabulary->vocab_size();
  SamplingParams params;
  params.temperature = 1.0f;
  std::vector<float> logits(vocab);
  for (size_t i = 0; i < schemas.size(); ++i) {
    StructuredOutputsParams so;
    so.json = schemas[i].dump();
    std::shared_ptr<CompiledConstraint> constraint;
    try {
      constraint = compiler.compile(so);
    } catch (const Error& e) {
      std::cout << nlohmann::json{{"schema", i}, {"tokenizer", name}, {"error", e.what()}}.dump() << "\n";
      continue;
    }
    for (int k = 0; k < samples; ++k) {
      ConstraintMatcher matcher(constraint);
      std::string text;
      bool finished = false;
      for (int step = 0; step < max_tokens && !finished; ++step) {
        for (auto& x : logits) x = float(rng.normal());
        SamplingContext ctx{&params, {}, {}, {}, &rng};
        ctx.allowed_token_mask = matcher.allowed_tokens();
        const int32_t token = sample_token(logits.data(), vocab, ctx).token_id;
        if (std::find(eos.begin(), eos.end(), token) != eos.end()) {
          finished = matcher.is_complete();
          break;
        }
        text += vocabulary->token_bytes(token);
        matcher.accept_token(token);
        finished = matcher.is_terminated();
      }
      std::cout << nlohmann::json{{"schema", i}, {"tokenizer", name}, {"text", utf8_lossy(text)}, {"finished", finished}}.dump() << "\n";
    }
  }
  return 0;
}
