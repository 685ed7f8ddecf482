#include "util/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace pagedllm {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Workers wait for a new generation number. A job is a function and a chunk counter: each thread (the caller
// included) claims chunks until none are left, so uneven chunks balance themselves.
//
// Waiting spins first and sleeps on a condition variable only after kSpinTime without a job. Decode calls the pool
// ~150 times per token with ~0.1-1 ms of work each; waking a sleeping thread through the kernel costs tens of
// microseconds each time, while a spinning worker starts within a few hundred nanoseconds (OpenMP runtimes spin
// before blocking for the same reason). The caller spins for the workers' last chunks: it has nothing else to do.
class ThreadPool {
 public:
  explicit ThreadPool(int num_threads) { start(num_threads); }
  ~ThreadPool() { stop(); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int num_threads) {
    stop();
    start(num_threads);
  }

  void run(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    if (n <= 0) return;
    int64_t max_chunks = std::max<int64_t>(1, n / std::max<int64_t>(grain, 1));
    int64_t num_chunks = std::min<int64_t>(max_chunks, static_cast<int64_t>(size()) * 4);
    if (num_chunks <= 1 || workers_.empty() || in_job_.load(std::memory_order_relaxed)) {
      fn(0, n);
      return;
    }
    in_job_.store(true, std::memory_order_relaxed);
    job_ = &fn;
    job_n_ = n;
    job_num_chunks_ = num_chunks;
    next_chunk_.store(0, std::memory_order_relaxed);
    pending_workers_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    publish_generation();
    work();
    for (int spins = 0; pending_workers_.load(std::memory_order_acquire) != 0; ++spins) {
      if (spins < kCallerSpinsBeforeYield) {
        cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
    job_ = nullptr;
    in_job_.store(false, std::memory_order_relaxed);
  }

 private:
  static constexpr auto kSpinTime = std::chrono::microseconds(200);
  static constexpr int kCallerSpinsBeforeYield = 1 << 14;

  // Makes the job fields written before it visible to every worker that sees the new generation.
  void publish_generation() {
    bool wake_sleepers;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      generation_.fetch_add(1, std::memory_order_release);
      wake_sleepers = sleepers_ > 0;
    }
    if (wake_sleepers) wake_.notify_all();
  }

  void start(int num_threads) {
    shutting_down_.store(false);
    // Each worker starts from the generation current now: a job posted before the thread first runs is still
    // seen as new, never skipped.
    uint64_t generation = generation_.load();
    for (int i = 1; i < num_threads; ++i) workers_.emplace_back([this, generation] { worker_loop(generation); });
  }

  void stop() {
    shutting_down_.store(true);
    publish_generation();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  void work() {
    for (;;) {
      int64_t chunk = next_chunk_.fetch_add(1);
      if (chunk >= job_num_chunks_) return;
      int64_t begin = job_n_ * chunk / job_num_chunks_;
      int64_t end = job_n_ * (chunk + 1) / job_num_chunks_;
      (*job_)(begin, end);
    }
  }

  // Returns the first generation different from `seen`: spinning for up to kSpinTime, then asleep.
  uint64_t wait_for_generation(uint64_t seen) {
    auto spin_start = std::chrono::steady_clock::now();
    for (int spins = 1;; ++spins) {
      uint64_t g = generation_.load(std::memory_order_acquire);
      if (g != seen) return g;
      cpu_relax();
      if (spins % 64 == 0 && std::chrono::steady_clock::now() - spin_start > kSpinTime) break;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    ++sleepers_;
    wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
    --sleepers_;
    return generation_.load(std::memory_order_acquire);
  }

  void worker_loop(uint64_t seen) {
    for (;;) {
      seen = wait_for_generation(seen);
      if (shutting_down_.load()) return;
      work();
      pending_workers_.fetch_sub(1, std::memory_order_release);
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};  // written under mutex_, read by spinning workers without it
  int sleepers_ = 0;                      // guarded by mutex_
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> in_job_{false};
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t job_n_ = 0;
  int64_t job_num_chunks_ = 0;
  std::atomic<int64_t> next_chunk_{0};
  std::atomic<int> pending_workers_{0};
};

// PAGEDLLM_NUM_THREADS=N overrides the core count: MPI ranks sharing one machine run a thread each
// (tests/mpi_run.sh sets it), where all cores per rank would oversubscribe them.
int default_num_threads() {
  if (const char* value = std::getenv("PAGEDLLM_NUM_THREADS")) {
    const int n = std::atoi(value);
    if (n > 0) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

ThreadPool& pool() {
  static ThreadPool instance(default_num_threads());
  return instance;
}

}  // namespace

void set_num_threads(int num_threads) { pool().resize(num_threads > 0 ? num_threads : default_num_threads()); }

int num_threads() { return pool().size(); }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  pool().run(n, grain, fn);
}

}  // namespace pagedllm
