#include "bench/bench_serve.h"

#include <gtest/gtest.h>

#include "server/test_server_fixture.h"

namespace pagedllm {
namespace {

class BenchServeTest : public ServerFixture {};

TEST_F(BenchServeTest, CompletesEveryRequestAndCountsTokens) {
  BenchServeConfig config;
  config.base_url = fmt::format("http://127.0.0.1:{}", server_->bound_port());
  config.num_prompts = 8;
  config.input_len = 12;
  config.output_len = 5;
  config.request_rate = 200.0;
  config.show_progress = false;
  BenchServeResult result = bench_serve(config);
  EXPECT_EQ(result.num_completed, 8);
  EXPECT_EQ(result.num_failed, 0);
  EXPECT_EQ(result.total_input_tokens, 96);
  EXPECT_EQ(result.total_output_tokens, 40);
  auto submitted = engine_.submitted();
  ASSERT_EQ(submitted.size(), 8u);
  EXPECT_EQ(submitted[0].second.max_tokens, 5);
  EXPECT_TRUE(submitted[0].second.ignore_eos);
  EXPECT_GT(result.ttft.mean_ms, 0.0);
  EXPECT_NE(format_bench_report(result).find("Successful requests:                    8"), std::string::npos);
}

TEST(BenchServeConfigTest, RefusesNonPositiveSizes) {
  BenchServeConfig config;
  config.num_prompts = 0;
  EXPECT_THROW(bench_serve(config), Error);
}

}  // namespace
}  // namespace pagedllm
