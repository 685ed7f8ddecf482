// Reads the stories260K goldens (models/stories260K/golden): prompts, the 128 greedy ids under
// Hugging Face semantics, and the reference logits of every position.
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

namespace pagedllm::testing {

inline const std::string kStoriesDir = PAGEDLLM_SOURCE_DIR "/models/stories260K";

struct Golden {
  std::string name;
  std::string prompt;
  std::vector<int32_t> prompt_token_ids;
  std::vector<int32_t> greedy_token_ids;  // greedy_token_ids_ignoring_bos_stop
  std::vector<float> logits;              // (rows, 512)
  int rows = 0;

  // log_softmax of golden row `row`.
  std::vector<double> log_probs(int row) const {
    const float* x = logits.data() + int64_t(row) * 512;
    double max = x[0];
    for (int i = 1; i < 512; ++i) max = std::max<double>(max, x[i]);
    double sum = 0;
    for (int i = 0; i < 512; ++i) sum += std::exp(x[i] - max);
    std::vector<double> out(512);
    for (int i = 0; i < 512; ++i) out[i] = x[i] - max - std::log(sum);
    return out;
  }
};

inline Golden load_golden(const std::string& name) {
  const std::string dir = kStoriesDir + "/golden/";
  std::ifstream in(dir + name + ".json");
  nlohmann::json j = nlohmann::json::parse(in);
  Golden g;
  g.name = name;
  g.prompt = j["prompt"];
  g.prompt_token_ids = j["prompt_token_ids"].get<std::vector<int32_t>>();
  g.greedy_token_ids = j["greedy_token_ids_ignoring_bos_stop"].get<std::vector<int32_t>>();
  g.rows = j["all_logits_file"]["shape"][0];
  g.logits.resize(int64_t(g.rows) * 512);
  std::ifstream bin(dir + j["all_logits_file"]["path"].get<std::string>(), std::ios::binary);
  bin.read(reinterpret_cast<char*>(g.logits.data()), g.logits.size() * 4);
  return g;
}

inline std::vector<std::string> golden_names() { return {"once_upon_a_time", "lily_and_tom", "the_little_dog", "long_200"}; }

}  // namespace pagedllm::testing
