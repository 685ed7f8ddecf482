#include "util/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace pagedllm {
namespace {

// Workers wait for a new generation number. A job is a function and a chunk counter: each thread (the caller
// included) claims chunks until none are left, so uneven chunks balance themselves.
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
    if (num_chunks <= 1 || workers_.empty() || in_job_) {
      fn(0, n);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &fn;
      job_n_ = n;
      job_num_chunks_ = num_chunks;
      next_chunk_.store(0);
      pending_workers_ = static_cast<int>(workers_.size());
      ++generation_;
      in_job_ = true;
    }
    wake_.notify_all();
    work();
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return pending_workers_ == 0; });
    in_job_ = false;
    job_ = nullptr;
  }

 private:
  void start(int num_threads) {
    uint64_t generation;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      shutting_down_ = false;
      generation = generation_;
    }
    // Each worker starts from the generation current now: a job posted before the thread first runs is still
    // seen as new, never skipped.
    for (int i = 1; i < num_threads; ++i) workers_.emplace_back([this, generation] { worker_loop(generation); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      shutting_down_ = true;
      ++generation_;
    }
    wake_.notify_all();
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

  void worker_loop(uint64_t seen) {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (shutting_down_) return;
      }
      work();
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_workers_ == 0) done_.notify_one();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  uint64_t generation_ = 0;      // guarded by mutex_
  bool shutting_down_ = false;   // guarded by mutex_
  int pending_workers_ = 0;      // guarded by mutex_
  bool in_job_ = false;          // only touched by the calling thread
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t job_n_ = 0;
  int64_t job_num_chunks_ = 0;
  std::atomic<int64_t> next_chunk_{0};
};

int default_num_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

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
