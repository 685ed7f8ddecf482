// The processes of one run and the collectives that tensor-parallel serving and data-parallel fine-tuning need.
//
// Started by an MPI launcher (mpirun, srun with PMI), the world is MPI_COMM_WORLD. Started alone, it is a group of
// one whose collectives are copies: single-process runs never initialize MPI, so `pagedllm serve` needs no launcher
// and pays nothing.
//
// Determinism: all_reduce_sum adds the ranks' values in rank order, (((x0 + x1) + x2) + ...), on every rank, so
// every rank holds the same bits and a run gives the same result however messages arrive. MPI_Allreduce promises
// neither (its algorithm picks the order by message size and rank count).
//
// Thread-safety: MPI is initialized with MPI_THREAD_SERIALIZED; one thread at a time may call the collectives
// (the engine thread on rank 0, the main thread of a worker). Every rank must call the same collectives in the
// same order.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace pagedllm {

// What this rank's collectives cost so far: the input of the per-token communication figures (README).
struct CollectiveStats {
  int64_t calls = 0;
  int64_t bytes = 0;     // this rank's payload: the elements it contributes, times their size
  double seconds = 0.0;  // wall time inside the call, waiting for the slowest rank included
};

class Communicator {
 public:
  // The group this process was started in; the first call initializes MPI when an MPI launcher started us.
  static Communicator& world();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }

  // Element-wise sum over the ranks, in place, in rank order (see above).
  void all_reduce_sum(float* data, int64_t count);
  void all_reduce_sum(double* data, int64_t count);
  // The same sum, bit for bit, for large buffers (data-parallel gradients): each rank adds up one N-th of the
  // elements in rank order (all-to-all), then the sums are gathered, so a rank sends and receives 2(N−1)/N of the
  // buffer instead of all_reduce_sum's N−1 times it.
  void all_reduce_sum_scattered(float* data, int64_t count);
  // out (size() * count elements) = every rank's `in`, concatenated in rank order.
  void all_gather(const float* in, int64_t count, float* out);
  // Copies `bytes` bytes of root's `data` into every other rank's `data`.
  void broadcast(void* data, int64_t bytes, int root = 0);
  template <typename T>
  void broadcast_vector(std::vector<T>& values, int root = 0) {
    int64_t n = static_cast<int64_t>(values.size());
    broadcast(&n, sizeof(n), root);
    values.resize(n);
    if (n > 0) broadcast(values.data(), n * static_cast<int64_t>(sizeof(T)), root);
  }
  void barrier();

  const CollectiveStats& all_reduce_stats() const { return all_reduce_stats_; }
  const CollectiveStats& all_gather_stats() const { return all_gather_stats_; }
  const CollectiveStats& broadcast_stats() const { return broadcast_stats_; }
  // Ends every process of the run with `code` after printing `why` on this rank's stderr: what a rank does when it
  // cannot go on, so that the others do not wait for it forever.
  [[noreturn]] void abort(int code, std::string_view why);

  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

 private:
  Communicator();
  template <typename T>
  void all_reduce_in_rank_order(T* data, int64_t count);

  int rank_ = 0;
  int size_ = 1;
  bool uses_mpi_ = false;
  std::vector<char> gather_scratch_;
  CollectiveStats all_reduce_stats_, all_gather_stats_, broadcast_stats_;
  std::vector<float> scatter_scratch_;
};

// True when an MPI launcher started this process (Open MPI's, PMI/PMIx, MPICH's Hydra), whatever the rank count.
bool launched_by_mpi();

}  // namespace pagedllm
