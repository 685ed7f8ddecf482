// Paged AdamW over a list of fp32 parameter tensors (the LoRA A and B matrices): `paged_adamw_32bit`,
// `paged_adamw_8bit` and plain `adamw` (paged with an unlimited budget). The moments live in a PagedStore whose
// resident memory is bounded by the budget; results are bit-identical whatever the budget.
//
// State layout: every tensor is cut into chunks of 256 elements (bitsandbytes' block size); a chunk's state is one
// record — m then v in fp32 (2048 bytes), or m codes, v codes, absmax_m, absmax_v (520 bytes) in 8-bit — and
// records are packed into pages in tensor order without straddling a page. Tensors under 4096 elements keep
// 32-bit state under paged_adamw_8bit, as bitsandbytes' min_8bit_size does.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "train/adamw.h"
#include "train/paged_store.h"

namespace pagedllm {

enum class OptimizerKind { kAdamW32bit, kAdamW8bit };

struct OptimizerChoice {
  OptimizerKind kind = OptimizerKind::kAdamW32bit;
  bool is_paged = true;  // false: the budget is ignored (everything stays resident)
};

// "paged_adamw_32bit", "paged_adamw_8bit" or "adamw"; Error(kInvalidArgument) naming the value otherwise.
OptimizerChoice parse_optimizer(const std::string& name);

class PagedAdamW {
 public:
  static constexpr int64_t kBlockSize = 256;
  static constexpr int64_t kMin8bitSize = 4096;
  static constexpr size_t kDefaultPageBytes = 64 * 1024;

  // param_sizes: elements of each tensor, in the order step() receives them. budget_bytes: resident state bound.
  // page_bytes must hold one record (≥ 2048).
  PagedAdamW(OptimizerKind kind, std::vector<int64_t> param_sizes, AdamWOptions options, size_t budget_bytes,
             const std::string& spill_dir, size_t page_bytes = kDefaultPageBytes);

  // One update of every tensor: params[i] (param_sizes[i] values) from grads[i], at learning rate lr.
  void step(const std::vector<float*>& params, const std::vector<const float*>& grads, float lr);

  int64_t num_steps() const { return num_steps_; }
  size_t state_bytes() const { return store_->num_bytes(); }
  const PagedStore& store() const { return *store_; }

  // Checkpointing: streams the state bytes to sink in order (page by page), and restores them with the step count.
  // load_state throws Error(kCorrupt) if size differs from state_bytes().
  void save_state(const std::function<void(const uint8_t* data, size_t size)>& sink);
  void load_state(int64_t num_steps, const uint8_t* data, size_t size);

 private:
  struct Chunk {
    uint32_t tensor;
    uint32_t page;
    uint32_t offset;  // byte offset of the record inside its page
    int64_t first_element;
  };

  void update_chunk(const Chunk& chunk, uint8_t* record, float* param, const float* grad, float lr) const;

  OptimizerKind kind_;
  std::vector<int64_t> param_sizes_;
  std::vector<bool> is_8bit_;  // per tensor
  AdamWOptions options_;
  std::vector<Chunk> chunks_;
  std::unique_ptr<PagedStore> store_;
  int64_t num_steps_ = 0;
};

}  // namespace pagedllm
