// Automatic prefix caching is on by default (vLLM v1): a repeated prompt reuses the first one's KV blocks, the
// output does not change, and the hits show in `generate`'s summary and in the server's /metrics.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "golden_data.h"
#include "run_command.h"

namespace pagedllm {
namespace {

using testing::quote;
using testing::run_command;

const std::string kBinary = PAGEDLLM_BINARY;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The long golden prompt (203 tokens) twice, one request at a time, so that the second finds the first's blocks.
struct RepeatedRun {
  testing::CommandResult result;
  std::string summary;  // stderr
};

RepeatedRun generate_twice(const testing::Golden& g, const std::string& flags) {
  const std::string err = ::testing::TempDir() + "/pagedllm_prefix_caching_stderr.txt";
  RepeatedRun run;
  run.result = run_command(kBinary + " generate --model " + testing::kStoriesDir + " --temperature 0 --max-tokens 128" +
                           " --max-num-seqs 1 --json --prompt " + quote(g.prompt) + " --prompt " + quote(g.prompt) +
                           " " + flags + " 2>" + err);
  run.summary = read_file(err);
  return run;
}

void expect_both_golden(const RepeatedRun& run, const testing::Golden& g) {
  ASSERT_EQ(run.result.exit_code, 0) << run.summary;
  std::istringstream lines(run.result.out);
  std::string line;
  for (int copy = 0; copy < 2; ++copy) {
    ASSERT_TRUE(std::getline(lines, line));
    EXPECT_EQ(nlohmann::json::parse(line)["outputs"][0]["token_ids"].get<std::vector<int32_t>>(), g.greedy_token_ids)
        << "copy " << copy;
  }
}

TEST(CliPrefixCaching, OnByDefaultRepeatedPromptHitsAndKeepsTheGolden) {
  const testing::Golden g = testing::load_golden("long_200");
  const RepeatedRun run = generate_twice(g, "");
  expect_both_golden(run, g);
  // The second request finds the first's 12 full blocks of 16; its last block is partial (203 = 12 * 16 + 11).
  EXPECT_NE(run.summary.find(", prefix cache hit rate: 47.3% (192 of 406 prompt tokens)\n"), std::string::npos)
      << run.summary;
}

TEST(CliPrefixCaching, FlagTurnsItOff) {
  const testing::Golden g = testing::load_golden("long_200");
  const RepeatedRun run = generate_twice(g, "--no-enable-prefix-caching");
  expect_both_golden(run, g);
  EXPECT_NE(run.summary.find(", prefix caching: off\n"), std::string::npos) << run.summary;
}

TEST(CliPrefixCaching, ServerMetricsCountTheHitsOfARepeatedPrompt) {
  const testing::Golden g = testing::load_golden("long_200");
  const std::string body = nlohmann::json{{"prompt", g.prompt}, {"max_tokens", 1}, {"temperature", 0}}.dump();
  const std::string post = "curl -fs http://127.0.0.1:$port/v1/completions -H 'Content-Type: application/json' -d " +
                           quote(body) + " >/dev/null";
  const std::string script =
      "port=$(python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])'); " +
      kBinary + " serve --model " + testing::kStoriesDir +
      " --host 127.0.0.1 --port $port >/dev/null 2>&1 & pid=$!; "
      "for i in $(seq 600); do curl -fs http://127.0.0.1:$port/health >/dev/null 2>&1 && break; sleep 0.1; done; " +
      post + "; " + post + "; curl -fs http://127.0.0.1:$port/metrics | grep '^vllm:prefix_cache'; kill $pid; wait $pid";
  const testing::CommandResult r = run_command("bash -c " + quote(script));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out,
            "vllm:prefix_cache_queries_total{model_name=\"stories260K\"} 406\n"
            "vllm:prefix_cache_hits_total{model_name=\"stories260K\"} 192\n");
}

}  // namespace
}  // namespace pagedllm
