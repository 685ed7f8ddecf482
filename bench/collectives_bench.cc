// The cost of tensor parallelism's collectives on their own, away from the model's compute and its load imbalance:
//   tests/mpi_run.sh N build/collectives_bench [hidden] [vocab]
// times Communicator::all_reduce_sum of one decode token's activations (hidden floats; a Llama layer does two) and
// all_gather of one token's logits (vocab / N floats per rank), after a barrier, and prints microseconds per call.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <vector>

#include "dist/communicator.h"

namespace {

template <typename F>
double microseconds_per_call(pagedllm::Communicator& comm, int iterations, F&& call) {
  for (int i = 0; i < 10; ++i) call();  // connections and buffers set up
  comm.barrier();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) call();
  comm.barrier();
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / iterations;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t hidden = argc > 1 ? std::atoll(argv[1]) : 2048;  // TinyLlama
  const int64_t vocab = argc > 2 ? std::atoll(argv[2]) : 32000;
  pagedllm::Communicator& comm = pagedllm::Communicator::world();
  const int64_t shard_vocab = (vocab + comm.size() - 1) / comm.size();
  std::vector<float> activations(hidden, 1.0f), logits(shard_vocab, 1.0f), gathered(shard_vocab * comm.size());
  const int iterations = 2000;
  const double reduce_us = microseconds_per_call(comm, iterations, [&] { comm.all_reduce_sum(activations.data(), hidden); });
  const double gather_us = microseconds_per_call(comm, 200, [&] { comm.all_gather(logits.data(), shard_vocab, gathered.data()); });
  if (comm.is_root()) {
    fmt::print("{} ranks: all_reduce_sum of {} floats ({} bytes per rank): {:.1f} us per call\n", comm.size(), hidden,
               hidden * 4, reduce_us);
    fmt::print("{} ranks: all_gather of {} floats per rank ({} bytes): {:.1f} us per call\n", comm.size(), shard_vocab,
               shard_vocab * 4, gather_us);
  }
  return 0;
}
