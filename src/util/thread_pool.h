// The process-wide thread pool. Every parallel loop in pagedllm goes through parallel_for so that the number of
// busy threads never exceeds the configured count (OpenBLAS is set to one thread while our pool runs work, so
// the two never fight for the same cores).
//
// Thread-safety: parallel_for may be called from any one thread at a time (the engine thread, a trainer, a
// test); a nested call from inside a task runs serially on the calling worker.
#pragma once

#include <cstdint>
#include <functional>

namespace pagedllm {

// Sets the number of threads (including the caller) used by parallel_for. 0 means the number of online CPUs.
// Call before the first parallel_for or between calls, never during one.
void set_num_threads(int num_threads);
int num_threads();

// Splits [0, n) into contiguous chunks of at least `grain` items and calls fn(begin, end) for each chunk, on the
// pool's threads and the caller. Returns when every chunk has finished.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace pagedllm
