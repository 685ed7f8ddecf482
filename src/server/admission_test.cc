#include "server/admission.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "server/test_server_fixture.h"
#include "util/error.h"

namespace pagedllm {
namespace {

TEST(AdmissionControlTest, AdmitsUntilTheWaitingSequencesReachTheLimit) {
  AdmissionControl control(/*max_num_seqs=*/2, /*max_queued_sequences=*/2);
  std::vector<AdmissionTicket> tickets;
  for (int i = 0; i < 4; ++i) tickets.push_back(control.admit(1));
  EXPECT_EQ(control.num_admitted(), 4);
  EXPECT_THROW(control.admit(1), Error);
  tickets.pop_back();
  EXPECT_EQ(control.num_admitted(), 3);
  tickets.push_back(control.admit(1));
  EXPECT_THROW(control.admit(1), Error);
}

TEST(AdmissionControlTest, CountsEverySampleOfARequest) {
  AdmissionControl control(2, 2);
  AdmissionTicket ticket = control.admit(4);  // 2 run, 2 wait: the queue is full
  EXPECT_EQ(control.num_admitted(), 4);
  EXPECT_THROW(control.admit(1), Error);
}

TEST(AdmissionControlTest, ZeroRefusesEverything) {
  AdmissionControl control(256, 0);
  EXPECT_THROW(control.admit(1), Error);
  EXPECT_EQ(control.num_admitted(), 0);
}

TEST(AdmissionControlTest, ConcurrentAdmissionsNeverExceedTheLimit) {
  AdmissionControl control(2, 2);
  std::atomic<int> num_admitted{0};
  std::vector<AdmissionTicket> tickets(64);
  std::vector<std::thread> threads;
  for (int i = 0; i < 64; ++i) {
    threads.emplace_back([&, i] {
      try {
        tickets[i] = control.admit(1);
        ++num_admitted;
      } catch (const Error&) {
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(num_admitted.load(), 4);
}

class AdmissionRouteTest : public ServerFixture {
 protected:
  // Sends num_requests completions of n samples at once while the engine is paused; returns {200s, 503s}.
  std::pair<int, int> burst(int num_requests, int n, int num_expected_admitted) {
    ServerConfig config = default_config();
    config.max_num_seqs = 2;
    config.max_queued_requests = 2;
    restart(config);
    engine_.set_paused(true);
    std::atomic<int> num_ok{0}, num_refused{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < num_requests; ++i) {
      threads.emplace_back([&] {
        int status = post("/v1/completions", json{{"prompt", "Hi"}, {"max_tokens", 2}, {"n", n}}).status;
        if (status == 200) ++num_ok;
        if (status == 503) ++num_refused;
      });
    }
    // Admitted requests wait on the paused engine; everything else is refused without it.
    for (int i = 0; i < 2000 && num_refused + num_ok < num_requests - num_expected_admitted; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    engine_.set_paused(false);
    for (auto& t : threads) t.join();
    return {num_ok.load(), num_refused.load()};
  }
  using json = nlohmann::json;
};

TEST_F(AdmissionRouteTest, FortySimultaneousRequestsAdmitMaxNumSeqsPlusTheQueue) {
  EXPECT_EQ(burst(40, 1, 4), std::make_pair(4, 36));
}

TEST_F(AdmissionRouteTest, RequestsOfFourSamplesCountFourSequences) {
  EXPECT_EQ(burst(40, 4, 1), std::make_pair(1, 39));
}

}  // namespace
}  // namespace pagedllm
