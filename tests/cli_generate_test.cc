// `pagedllm generate` as a user runs it: greedy output of the stories260K goldens, JSON shape, errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "golden_data.h"
#include "run_command.h"

namespace pagedllm {
namespace {

using testing::quote;
using testing::run_command;

TEST(CliGenerate, GreedyReproducesEveryGolden) {
  std::string command = std::string(PAGEDLLM_BINARY) + " generate --model " + testing::kStoriesDir +
                        " --temperature 0 --max-tokens 128 --logprobs 3 --json";
  std::vector<testing::Golden> goldens;
  for (const auto& name : testing::golden_names()) {
    goldens.push_back(testing::load_golden(name));
    command += " --prompt " + quote(goldens.back().prompt);
  }
  testing::CommandResult r = run_command(command);
  ASSERT_EQ(r.exit_code, 0);
  std::istringstream lines(r.out);
  std::string line;
  for (const auto& g : goldens) {
    ASSERT_TRUE(std::getline(lines, line)) << g.name;
    nlohmann::json j = nlohmann::json::parse(line);
    EXPECT_EQ(j["prompt"], g.prompt);
    EXPECT_EQ(j["prompt_token_ids"].get<std::vector<int32_t>>(), g.prompt_token_ids);
    const auto& out = j["outputs"][0];
    EXPECT_EQ(out["token_ids"].get<std::vector<int32_t>>(), g.greedy_token_ids) << g.name;
    EXPECT_EQ(out["finish_reason"], "length");
    ASSERT_EQ(out["logprobs"].size(), 128u);
    for (size_t t = 0; t < 128; ++t) {
      std::vector<double> ref = g.log_probs(static_cast<int>(g.prompt_token_ids.size() + t - 1));
      for (auto& [id, lp] : out["logprobs"][t].items()) {
        ASSERT_NEAR(lp.get<double>(), ref[std::stoi(id)], 1e-4) << g.name << " token " << t;
      }
    }
  }
}

TEST(CliGenerate, BadFlagValueIsAClearError) {
  testing::CommandResult r = run_command(std::string(PAGEDLLM_BINARY) + " generate --model " + testing::kStoriesDir +
                                         " --prompt hi --temperature -1 2>&1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("temperature"), std::string::npos) << r.out;
}

TEST(CliGenerate, MissingModelFolderIsNamed) {
  testing::CommandResult r = run_command(std::string(PAGEDLLM_BINARY) + " generate --model /nonexistent/model --prompt hi 2>&1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("/nonexistent/model"), std::string::npos) << r.out;
}

TEST(CliTokenize, StoriesTokenizerMatchesReference) {
  testing::CommandResult r = run_command("echo '{\"text\": \"Once upon a time\"}' | " + std::string(PAGEDLLM_BINARY) +
                                         " tokenize --tokenizer " + testing::kStoriesDir);
  ASSERT_EQ(r.exit_code, 0);
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ids"].get<std::vector<int32_t>>(), (std::vector<int32_t>{1, 403, 407, 261, 378}));
}

}  // namespace
}  // namespace pagedllm
