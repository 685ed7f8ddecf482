#include "engine/scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>

#include "util/error.h"

namespace pagedllm {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

std::shared_ptr<Request> make_request(const std::string& id, int prompt_len, int max_tokens, int32_t first_token = 0) {
  auto request = std::make_shared<Request>();
  request->request_id = id;
  request->prompt_token_ids.resize(prompt_len);
  std::iota(request->prompt_token_ids.begin(), request->prompt_token_ids.end(), first_token);
  request->max_tokens = max_tokens;
  return request;
}

SchedulerConfig small_config(int max_num_batched_tokens, int max_model_len, int block_size = 4) {
  SchedulerConfig config;
  config.max_num_seqs = 8;
  config.max_num_batched_tokens = max_num_batched_tokens;
  config.max_model_len = max_model_len;
  config.block_size = block_size;
  return config;
}

std::vector<std::string> scheduled_ids(const SchedulerOutput& output) {
  std::vector<std::string> ids;
  for (const ScheduledRequest& s : output.scheduled) ids.push_back(s.request_id);
  return ids;
}

std::vector<int> num_new_tokens(const SchedulerOutput& output) {
  std::vector<int> counts;
  for (const ScheduledRequest& s : output.scheduled) counts.push_back(s.num_new_tokens);
  return counts;
}

// Samples `token` for every request that reached its last token.
std::map<std::string, std::vector<int32_t>> sample_all(const SchedulerOutput& output, int32_t token) {
  std::map<std::string, std::vector<int32_t>> sampled;
  for (const ScheduledRequest& s : output.scheduled) {
    if (!s.is_prefill_chunk) sampled[s.request_id] = {token};
  }
  return sampled;
}

SchedulerOutput step(Scheduler& scheduler, int32_t token) {
  SchedulerOutput output = scheduler.schedule();
  scheduler.update_from_output(output, sample_all(output, token));
  scheduler.kv_cache_manager().check_invariants();
  return output;
}

TEST(Scheduler, TokenBudgetSplitsSecondPromptAndRunningGoFirst) {
  KVCacheManager kv(64, 4, false);
  Scheduler scheduler(small_config(10, 64), kv);
  auto a = make_request("a", 6, 4);
  auto b = make_request("b", 6, 4);
  scheduler.add_request(a);
  scheduler.add_request(b);

  const SchedulerOutput first = step(scheduler, 100);
  EXPECT_THAT(scheduled_ids(first), ElementsAre("a", "b"));
  EXPECT_THAT(num_new_tokens(first), ElementsAre(6, 4));
  EXPECT_EQ(first.total_num_scheduled_tokens, 10);
  EXPECT_FALSE(first.scheduled[0].is_prefill_chunk);
  EXPECT_TRUE(first.scheduled[1].is_prefill_chunk);
  EXPECT_THAT(first.scheduled[0].block_table, ElementsAre(0, 1));
  EXPECT_THAT(first.scheduled[1].block_table, ElementsAre(2));
  EXPECT_THAT(a->output_token_ids, ElementsAre(100));
  EXPECT_THAT(b->output_token_ids, IsEmpty());
  EXPECT_EQ(b->num_computed_tokens, 4);

  const SchedulerOutput second = step(scheduler, 101);
  EXPECT_THAT(scheduled_ids(second), ElementsAre("a", "b"));
  EXPECT_THAT(num_new_tokens(second), ElementsAre(1, 2));
  EXPECT_EQ(second.scheduled[0].num_computed_tokens, 6);
  EXPECT_EQ(second.scheduled[1].num_computed_tokens, 4);
  EXPECT_THAT(second.scheduled[1].block_table, ElementsAre(2, 3));
  EXPECT_THAT(a->output_token_ids, ElementsAre(100, 101));
  EXPECT_THAT(b->output_token_ids, ElementsAre(101));
}

TEST(Scheduler, MaxNumSeqsCapsRunningRequests) {
  KVCacheManager kv(64, 4, false);
  SchedulerConfig config = small_config(64, 64);
  config.max_num_seqs = 2;
  Scheduler scheduler(config, kv);
  for (const char* id : {"a", "b", "c"}) scheduler.add_request(make_request(id, 3, 4));
  EXPECT_THAT(scheduled_ids(step(scheduler, 7)), ElementsAre("a", "b"));
  EXPECT_EQ(scheduler.num_running(), 2);
  EXPECT_EQ(scheduler.num_waiting(), 1);
  EXPECT_THAT(scheduled_ids(step(scheduler, 7)), ElementsAre("a", "b"));
  scheduler.finish_requests({"a"}, RequestStatus::kFinishedStopped);
  const SchedulerOutput output = step(scheduler, 7);
  EXPECT_THAT(scheduled_ids(output), ElementsAre("b", "c"));
  EXPECT_THAT(num_new_tokens(output), ElementsAre(1, 3));
}

TEST(Scheduler, ChunkedPrefillSplitsLongPromptByBudget) {
  KVCacheManager kv(64, 4, false);
  Scheduler scheduler(small_config(8, 64), kv);
  auto a = make_request("a", 20, 4);
  scheduler.add_request(a);
  std::vector<int> chunks;
  std::vector<int> starts;
  std::vector<bool> is_chunk;
  for (int s = 0; s < 4; ++s) {
    const SchedulerOutput output = step(scheduler, 50 + s);
    ASSERT_EQ(output.scheduled.size(), 1u);
    chunks.push_back(output.scheduled[0].num_new_tokens);
    starts.push_back(output.scheduled[0].num_computed_tokens);
    is_chunk.push_back(output.scheduled[0].is_prefill_chunk);
  }
  EXPECT_THAT(chunks, ElementsAre(8, 8, 4, 1));
  EXPECT_THAT(starts, ElementsAre(0, 8, 16, 20));
  EXPECT_THAT(is_chunk, ElementsAre(true, true, false, false));
  EXPECT_THAT(a->output_token_ids, ElementsAre(52, 53));
  EXPECT_THAT(kv.block_table("a"), ElementsAre(0, 1, 2, 3, 4, 5));
}

TEST(Scheduler, LongPrefillThresholdSharesBudgetBetweenPrompts) {
  KVCacheManager kv(64, 4, false);
  SchedulerConfig config = small_config(16, 64);
  config.long_prefill_token_threshold = 5;
  Scheduler scheduler(config, kv);
  scheduler.add_request(make_request("a", 12, 4));
  scheduler.add_request(make_request("b", 12, 4));
  EXPECT_THAT(num_new_tokens(step(scheduler, 1)), ElementsAre(5, 5));
  EXPECT_THAT(num_new_tokens(step(scheduler, 1)), ElementsAre(5, 5));
  const SchedulerOutput last = step(scheduler, 1);
  EXPECT_THAT(num_new_tokens(last), ElementsAre(2, 2));
  EXPECT_FALSE(last.scheduled[0].is_prefill_chunk);
}

TEST(Scheduler, WithoutChunkedPrefillPromptWaitsUntilItFitsWhole) {
  KVCacheManager kv(64, 4, false);
  SchedulerConfig config = small_config(16, 16);
  config.enable_chunked_prefill = false;
  Scheduler scheduler(config, kv);
  scheduler.add_request(make_request("a", 10, 4));
  scheduler.add_request(make_request("b", 10, 4));
  const SchedulerOutput first = step(scheduler, 1);
  EXPECT_THAT(scheduled_ids(first), ElementsAre("a"));
  EXPECT_THAT(num_new_tokens(first), ElementsAre(10));
  const SchedulerOutput second = step(scheduler, 1);
  EXPECT_THAT(scheduled_ids(second), ElementsAre("a", "b"));
  EXPECT_THAT(num_new_tokens(second), ElementsAre(1, 10));
}

TEST(Scheduler, WaitingRequestsAdmittedInArrivalOrder) {
  KVCacheManager kv(64, 4, false);
  Scheduler scheduler(small_config(10, 64), kv);
  for (const char* id : {"a", "b", "c"}) scheduler.add_request(make_request(id, 4, 4));
  const SchedulerOutput output = step(scheduler, 1);
  EXPECT_THAT(scheduled_ids(output), ElementsAre("a", "b", "c"));
  EXPECT_THAT(num_new_tokens(output), ElementsAre(4, 4, 2));
}

// FCFS: when the head of the queue cannot get blocks, smaller requests behind it wait too.
TEST(Scheduler, HeadOfWaitingQueueBlocksLaterRequests) {
  KVCacheManager kv(4, 4, false);
  Scheduler scheduler(small_config(64, 16), kv);
  scheduler.add_request(make_request("a", 12, 4));
  scheduler.add_request(make_request("b", 8, 4));
  scheduler.add_request(make_request("c", 2, 4));
  EXPECT_THAT(scheduled_ids(step(scheduler, 1)), ElementsAre("a"));
  EXPECT_EQ(scheduler.num_waiting(), 2);
  EXPECT_EQ(kv.num_free_blocks(), 1);
}

TEST(Scheduler, PreemptsLatestArrivalAndResumesWithItsOutput) {
  KVCacheManager kv(4, 4, false);
  Scheduler scheduler(small_config(32, 16), kv);
  auto a = make_request("a", 7, 8);
  auto b = make_request("b", 7, 8, 50);
  scheduler.add_request(a);
  scheduler.add_request(b);
  EXPECT_THAT(scheduled_ids(step(scheduler, 100)), ElementsAre("a", "b"));  // a [0, 1], b [2, 3]
  EXPECT_THAT(scheduled_ids(step(scheduler, 101)), ElementsAre("a", "b"));  // position 7: still block 1 / 3

  // Position 8 needs a third block each; none is free, so b (latest) is preempted for a.
  const SchedulerOutput third = step(scheduler, 102);
  EXPECT_THAT(scheduled_ids(third), ElementsAre("a"));
  EXPECT_THAT(third.preempted_request_ids, ElementsAre("b"));
  EXPECT_THAT(third.scheduled[0].block_table, ElementsAre(0, 1, 3));
  EXPECT_EQ(b->status, RequestStatus::kPreempted);
  EXPECT_EQ(b->num_computed_tokens, 0);
  EXPECT_EQ(b->num_preemptions, 1);
  EXPECT_THAT(b->output_token_ids, ElementsAre(100, 101));
  EXPECT_EQ(scheduler.num_preemptions_total(), 1u);
  EXPECT_EQ(scheduler.num_waiting(), 1);
  EXPECT_THAT(kv.block_pool().free_block_ids(), ElementsAre(2));

  scheduler.finish_requests({"a"}, RequestStatus::kFinishedStopped);
  EXPECT_THAT(kv.block_pool().free_block_ids(), ElementsAre(2, 3, 1, 0));
  const SchedulerOutput resumed = step(scheduler, 103);
  ASSERT_THAT(scheduled_ids(resumed), ElementsAre("b"));
  EXPECT_EQ(resumed.scheduled[0].num_new_tokens, 9);  // 7 prompt + 2 output tokens recomputed
  EXPECT_FALSE(resumed.scheduled[0].is_prefill_chunk);
  EXPECT_THAT(resumed.scheduled[0].block_table, ElementsAre(2, 3, 1));
  EXPECT_EQ(b->status, RequestStatus::kRunning);
  EXPECT_THAT(b->output_token_ids, ElementsAre(100, 101, 103));
}

TEST(Scheduler, RequestThatIsLatestPreemptsItself) {
  KVCacheManager kv(4, 4, false);
  Scheduler scheduler(small_config(32, 16), kv);
  scheduler.add_request(make_request("a", 7, 8));
  scheduler.add_request(make_request("b", 8, 8));
  step(scheduler, 100);
  // a decodes position 7 in its block 1; b's position 8 needs a block and b itself is the latest arrival.
  const SchedulerOutput output = step(scheduler, 101);
  EXPECT_THAT(scheduled_ids(output), ElementsAre("a"));
  EXPECT_THAT(output.preempted_request_ids, ElementsAre("b"));
  EXPECT_EQ(kv.num_free_blocks(), 2);
}

// b preempts itself and goes back to the FRONT of the queue, ahead of d, which then waits behind it (FCFS) even
// though d alone would fit.
TEST(Scheduler, PreemptedRequestResumesBeforeLaterArrivals) {
  KVCacheManager kv(4, 4, false);
  Scheduler scheduler(small_config(32, 16), kv);
  scheduler.add_request(make_request("a", 7, 8));
  scheduler.add_request(make_request("b", 8, 8));
  step(scheduler, 100);
  scheduler.add_request(make_request("d", 2, 2));
  const SchedulerOutput second = step(scheduler, 101);
  EXPECT_THAT(second.preempted_request_ids, ElementsAre("b"));
  EXPECT_THAT(scheduled_ids(second), ElementsAre("a"));  // no admissions in a step that preempted
  EXPECT_EQ(scheduler.num_waiting(), 2);
  const SchedulerOutput third = step(scheduler, 102);
  EXPECT_THAT(scheduled_ids(third), ElementsAre("a"));  // b needs 3 blocks, 1 is free; d must wait behind it
  EXPECT_EQ(kv.num_free_blocks(), 1);
  scheduler.finish_requests({"a"}, RequestStatus::kFinishedStopped);
  EXPECT_THAT(scheduled_ids(step(scheduler, 103)), ElementsAre("b", "d"));
}

// A forked child (latest arrival) runs before an earlier-arrived request that then runs out of blocks: the child
// is preempted and taken out of this step's batch, its token returned to the budget.
TEST(Scheduler, PreemptingAlreadyScheduledRequestUnschedulesIt) {
  KVCacheManager kv(4, 4, false);
  Scheduler scheduler(small_config(6, 16), kv);
  auto p = make_request("p", 6, 8);
  auto w = make_request("w", 4, 8, 40);
  scheduler.add_request(p);
  scheduler.add_request(w);
  EXPECT_THAT(scheduled_ids(step(scheduler, 100)), ElementsAre("p"));  // budget spent on p's prompt

  auto c = make_request("c", 6, 8);
  c->output_token_ids = {101};
  scheduler.fork_request("p", c);
  EXPECT_THAT(kv.block_table("c"), ElementsAre(0, 1));

  const SchedulerOutput second = step(scheduler, 102);
  EXPECT_THAT(scheduled_ids(second), ElementsAre("p", "c", "w"));
  EXPECT_THAT(num_new_tokens(second), ElementsAre(1, 1, 4));
  EXPECT_THAT(second.blocks_to_copy, ElementsAre(Pair(1, 2)));
  EXPECT_THAT(second.scheduled[0].block_table, ElementsAre(0, 2));
  EXPECT_THAT(second.scheduled[1].block_table, ElementsAre(0, 1));
  EXPECT_THAT(second.scheduled[2].block_table, ElementsAre(3));

  const SchedulerOutput third = step(scheduler, 103);
  EXPECT_THAT(scheduled_ids(third), ElementsAre("p", "w"));
  EXPECT_THAT(third.preempted_request_ids, ElementsAre("c"));
  EXPECT_EQ(third.total_num_scheduled_tokens, 2);
  EXPECT_THAT(third.scheduled[1].block_table, ElementsAre(3, 1));
  EXPECT_THAT(c->output_token_ids, ElementsAre(101, 102));
  EXPECT_EQ(c->num_computed_tokens, 0);

  scheduler.finish_requests({"p", "w"}, RequestStatus::kFinishedStopped);
  EXPECT_THAT(kv.block_pool().free_block_ids(), ElementsAre(2, 0, 1, 3));
  const SchedulerOutput resumed = step(scheduler, 104);
  EXPECT_THAT(scheduled_ids(resumed), ElementsAre("c"));
  EXPECT_THAT(num_new_tokens(resumed), ElementsAre(6));  // budget 6 of the 8 tokens to recompute
  EXPECT_TRUE(resumed.scheduled[0].is_prefill_chunk);
  EXPECT_THAT(resumed.scheduled[0].block_table, ElementsAre(2, 0));
}

TEST(Scheduler, ForkSharesPromptBlocksAndCopiesPartialBlockOnce) {
  KVCacheManager kv(16, 4, false);
  Scheduler scheduler(small_config(64, 32), kv);
  auto p = make_request("p", 10, 8);
  scheduler.add_request(p);
  step(scheduler, 100);
  for (int k = 1; k <= 3; ++k) {
    auto child = make_request("c" + std::to_string(k), 10, 8);
    child->output_token_ids = {100 + k};
    scheduler.fork_request("p", child);
  }
  EXPECT_EQ(scheduler.num_running(), 4);
  EXPECT_EQ(kv.block_pool().block(0).ref_cnt, 4);
  EXPECT_EQ(kv.num_free_blocks(), 13);
  const SchedulerOutput output = step(scheduler, 200);
  EXPECT_THAT(scheduled_ids(output), ElementsAre("p", "c1", "c2", "c3"));
  EXPECT_THAT(output.blocks_to_copy, ElementsAre(Pair(2, 3), Pair(2, 4), Pair(2, 5)));
  EXPECT_THAT(output.scheduled[0].block_table, ElementsAre(0, 1, 3));
  EXPECT_THAT(output.scheduled[3].block_table, ElementsAre(0, 1, 2));
  EXPECT_EQ(kv.block_pool().block(1).ref_cnt, 4);
  EXPECT_EQ(step(scheduler, 201).blocks_to_copy.size(), 0u);
  scheduler.finish_requests({"p", "c1", "c2", "c3"}, RequestStatus::kFinishedLengthCapped);
  EXPECT_EQ(kv.num_free_blocks(), 16);
  EXPECT_EQ(p->status, RequestStatus::kFinishedLengthCapped);
}

TEST(Scheduler, PrefixCacheSkipsComputedBlocksOfRepeatedPrompt) {
  KVCacheManager kv(16, 4, true);
  SchedulerConfig config = small_config(64, 32);
  config.enable_prefix_caching = true;
  Scheduler scheduler(config, kv);
  scheduler.add_request(make_request("a", 10, 4));
  step(scheduler, 100);
  scheduler.finish_requests({"a"}, RequestStatus::kFinishedStopped);

  auto b = make_request("b", 10, 4);
  scheduler.add_request(b);
  const SchedulerOutput output = step(scheduler, 100);
  ASSERT_EQ(output.scheduled.size(), 1u);
  EXPECT_EQ(output.scheduled[0].num_computed_tokens, 8);
  EXPECT_EQ(output.scheduled[0].num_new_tokens, 2);
  EXPECT_THAT(output.scheduled[0].block_table, ElementsAre(0, 1, 3));
  EXPECT_EQ(b->num_cached_tokens, 8);
  EXPECT_EQ(kv.prefix_cache_stats().num_query_tokens, 20u);
  EXPECT_EQ(kv.prefix_cache_stats().num_hit_tokens, 8u);
}

TEST(Scheduler, FinishingAndAbortingReturnAllBlocks) {
  KVCacheManager kv(8, 4, true);
  SchedulerConfig config = small_config(64, 32);
  config.enable_prefix_caching = true;
  Scheduler scheduler(config, kv);
  auto a = make_request("a", 9, 4);
  auto b = make_request("b", 5, 4);
  auto c = make_request("c", 30, 2);
  scheduler.add_request(a);
  scheduler.add_request(b);
  step(scheduler, 1);
  scheduler.add_request(c);
  EXPECT_EQ(kv.num_free_blocks(), 3);
  scheduler.finish_requests({"c"}, RequestStatus::kFinishedAborted);  // still waiting
  scheduler.finish_requests({"a"}, RequestStatus::kFinishedAborted);
  scheduler.finish_requests({"b", "unknown", "a"}, RequestStatus::kFinishedStopped);
  EXPECT_EQ(a->status, RequestStatus::kFinishedAborted);
  EXPECT_EQ(c->status, RequestStatus::kFinishedAborted);
  EXPECT_FALSE(scheduler.has_unfinished_requests());
  EXPECT_EQ(kv.num_requests(), 0);
  EXPECT_EQ(kv.num_free_blocks(), 8);
  kv.reset_prefix_cache();
  kv.check_invariants();
  EXPECT_EQ(kv.block_pool().num_cached_blocks(), 0);
}

TEST(Scheduler, RequestAbortedBetweenScheduleAndUpdateIsSkipped) {
  KVCacheManager kv(8, 4, false);
  Scheduler scheduler(small_config(64, 32), kv);
  auto a = make_request("a", 5, 4);
  scheduler.add_request(a);
  const SchedulerOutput output = scheduler.schedule();
  scheduler.finish_requests({"a"}, RequestStatus::kFinishedAborted);
  scheduler.update_from_output(output, sample_all(output, 9));
  EXPECT_THAT(a->output_token_ids, IsEmpty());
  EXPECT_EQ(kv.num_free_blocks(), 8);
}

TEST(Scheduler, RejectsRequestsThatCanNeverFit) {
  KVCacheManager kv(8, 4, false);
  Scheduler scheduler(small_config(64, 32), kv);
  EXPECT_THROW(scheduler.add_request(make_request("long", 30, 3)), Error);
  EXPECT_THROW(scheduler.add_request(make_request("empty", 0, 3)), Error);
  EXPECT_THROW(scheduler.add_request(make_request("zero", 3, 0)), Error);
  scheduler.add_request(make_request("a", 29, 3));
  EXPECT_THROW(scheduler.add_request(make_request("a", 3, 3)), Error);
  EXPECT_EQ(scheduler.num_waiting(), 1);
}

TEST(Scheduler, RejectsLimitsThatCanNeverScheduleAFullLengthRequest) {
  KVCacheManager kv(8, 4, false);
  EXPECT_THROW(Scheduler(small_config(64, 33), kv), Error);  // cache holds 32 tokens
  EXPECT_THROW(Scheduler(small_config(64, 32, 8), kv), Error);  // block size mismatch
  SchedulerConfig no_chunking = small_config(16, 32);
  no_chunking.enable_chunked_prefill = false;
  EXPECT_THROW(Scheduler(no_chunking, kv), Error);
  EXPECT_NO_THROW(Scheduler(small_config(16, 32), kv));
}

}  // namespace
}  // namespace pagedllm
