#include "train/data_parallel.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <type_traits>

#include "util/error.h"

namespace pagedllm {
namespace {

int64_t num_parameters(const std::vector<LoraModuleWeights>& modules) {
  int64_t n = 0;
  for (const auto& m : modules) n += static_cast<int64_t>(m.A.size() + m.B.size());
  return n;
}

// Calls fn(tensor, offset) for A₀, B₀, A₁, B₁, … with each tensor's offset in the flat buffer.
template <typename Modules, typename Fn>
void for_each_tensor(Modules& modules, Fn fn) {
  int64_t offset = 0;
  for (auto& m : modules) {
    fn(m.A, offset);
    offset += static_cast<int64_t>(m.A.size());
    fn(m.B, offset);
    offset += static_cast<int64_t>(m.B.size());
  }
}

// FNV-1a over 32-bit words: equal hashes on all ranks is the cheap check that their copies agree.
template <typename T>
uint64_t hash_words(uint64_t h, const std::vector<T>& values) {
  static_assert(sizeof(T) == 4);
  for (const T v : values) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    h = (h ^ bits) * 0x100000001b3ULL;
  }
  return h;
}

constexpr uint64_t kHashSeed = 0xcbf29ce484222325ULL;

// The number of ranks whose `value` differs from rank 0's, on every rank.
int64_t num_differing_from_root(Communicator& comm, uint64_t value) {
  uint64_t root = value;
  comm.broadcast(&root, sizeof(root));
  double num_differing = value != root ? 1.0 : 0.0;
  comm.all_reduce_sum(&num_differing, 1);
  return static_cast<int64_t>(num_differing);
}

}  // namespace

int64_t GradientReducer::num_rounds(int64_t num_micro_batches) const {
  return (num_micro_batches + comm_.size() - 1) / comm_.size();
}

int64_t GradientReducer::micro_batch_of(int64_t round, int64_t num_micro_batches) const {
  const int64_t i = round * comm_.size() + comm_.rank();
  return i < num_micro_batches ? i : -1;
}

void GradientReducer::begin_step(int64_t num_micro_batches) {
  is_pass_through_ = comm_.size() == 1 && num_micro_batches == 1;
  // Rank 0 adds each round's gradient into the running total, which starts at zero; the others overwrite.
  if (comm_.is_root()) std::fill(sum_.begin(), sum_.end(), 0.0f);
}

void GradientReducer::reduce_round(const std::vector<LoraModuleWeights>& grads, bool has_gradient) {
  if (is_pass_through_) return;
  const int64_t n = num_parameters(grads);
  if (static_cast<int64_t>(sum_.size()) != n) sum_.assign(n, 0.0f);
  if (comm_.is_root()) {
    if (has_gradient) {
      for_each_tensor(grads, [&](const std::vector<float>& t, int64_t offset) {
        float* out = sum_.data() + offset;
        for (size_t i = 0; i < t.size(); ++i) out[i] += t[i];
      });
    }
  } else if (has_gradient) {
    for_each_tensor(grads, [&](const std::vector<float>& t, int64_t offset) {
      std::copy(t.begin(), t.end(), sum_.begin() + offset);
    });
  } else {
    std::fill(sum_.begin(), sum_.end(), 0.0f);
  }
  if (comm_.size() == 1) return;
  const auto start = std::chrono::steady_clock::now();
  comm_.all_reduce_sum_scattered(sum_.data(), n);
  reduce_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  reduced_bytes_ += n * static_cast<int64_t>(sizeof(float));
}

void GradientReducer::finish_step(std::vector<LoraModuleWeights>& grads) {
  if (is_pass_through_) return;
  PAGEDLLM_CHECK(static_cast<int64_t>(sum_.size()) == num_parameters(grads));
  for_each_tensor(grads, [&](std::vector<float>& t, int64_t offset) {
    std::copy(sum_.begin() + offset, sum_.begin() + offset + static_cast<int64_t>(t.size()), t.begin());
  });
}

double sum_slots_in_order(Communicator& comm, std::vector<double> values) {
  comm.all_reduce_sum(values.data(), static_cast<int64_t>(values.size()));
  double sum = 0.0;
  for (const double v : values) sum += v;
  return sum;
}

void check_replicas_agree(Communicator& comm, const std::vector<LoraModuleWeights>& modules) {
  if (comm.size() == 1) return;
  uint64_t h = kHashSeed;
  for_each_tensor(modules, [&](const std::vector<float>& t, int64_t) { h = hash_words(h, t); });
  if (const int64_t n = num_differing_from_root(comm, h); n > 0) {
    throw_error(ErrorKind::kCorrupt, "data parallel: the LoRA weights of {} rank(s) differ from rank 0's", n);
  }
}

void check_same_examples(Communicator& comm, const std::vector<TokenizedExample>& examples, std::string_view what) {
  if (comm.size() == 1) return;
  uint64_t h = kHashSeed;
  for (const TokenizedExample& e : examples) h = hash_words(hash_words(h, e.input_ids), e.labels);
  if (const int64_t n = num_differing_from_root(comm, h); n > 0) {
    throw_error(ErrorKind::kInvalidArgument,
                "data parallel: {} rank(s) tokenized other {} than rank 0 (every rank must read the same files)", n,
                what);
  }
}

bool broadcast_resume_state(Communicator& comm, bool is_resumed, std::vector<LoraModuleWeights>& modules,
                            PagedAdamW& optimizer, TrainingProgress& progress) {
  if (comm.size() == 1) return is_resumed;
  static_assert(std::is_trivially_copyable_v<TrainingProgress>, "sent as bytes");
  uint8_t flag = is_resumed ? 1 : 0;
  comm.broadcast(&flag, sizeof(flag));
  if (flag == 0) return false;
  comm.broadcast(&progress, sizeof(progress));
  for_each_tensor(modules, [&](std::vector<float>& t, int64_t) {
    comm.broadcast(t.data(), static_cast<int64_t>(t.size() * sizeof(float)));
  });
  int64_t optimizer_steps = optimizer.num_steps();
  comm.broadcast(&optimizer_steps, sizeof(optimizer_steps));
  std::vector<uint8_t> state;
  if (comm.is_root()) {
    state.reserve(optimizer.state_bytes());
    optimizer.save_state([&](const uint8_t* data, size_t size) { state.insert(state.end(), data, data + size); });
  }
  comm.broadcast_vector(state);
  if (!comm.is_root()) optimizer.load_state(optimizer_steps, state.data(), state.size());
  return true;
}

}  // namespace pagedllm
