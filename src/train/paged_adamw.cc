#include "train/paged_adamw.h"

#include <algorithm>
#include <cstring>

#include "util/error.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

constexpr size_t kRecordBytes32 = PagedAdamW::kBlockSize * 2 * sizeof(float);
constexpr size_t kRecordBytes8 = PagedAdamW::kBlockSize * 2 + 2 * sizeof(float);

}  // namespace

OptimizerChoice parse_optimizer(const std::string& name) {
  if (name == "paged_adamw_32bit") return {OptimizerKind::kAdamW32bit, true};
  if (name == "paged_adamw_8bit") return {OptimizerKind::kAdamW8bit, true};
  if (name == "adamw") return {OptimizerKind::kAdamW32bit, false};
  throw_error(ErrorKind::kInvalidArgument,
              "--optim: unknown optimizer '{}' (expected paged_adamw_32bit, paged_adamw_8bit or adamw)", name);
}

PagedAdamW::PagedAdamW(OptimizerKind kind, std::vector<int64_t> param_sizes, AdamWOptions options,
                       size_t budget_bytes, const std::string& spill_dir, size_t page_bytes)
    : kind_(kind), param_sizes_(std::move(param_sizes)), options_(options) {
  if (page_bytes < kRecordBytes32) {
    throw_error(ErrorKind::kInvalidArgument, "paged optimizer: page size {} is below one record ({} bytes)",
                page_bytes, kRecordBytes32);
  }
  uint32_t page = 0;
  size_t offset = 0;
  for (size_t t = 0; t < param_sizes_.size(); ++t) {
    const bool is_8bit = kind_ == OptimizerKind::kAdamW8bit && param_sizes_[t] >= kMin8bitSize;
    is_8bit_.push_back(is_8bit);
    const size_t record_bytes = is_8bit ? kRecordBytes8 : kRecordBytes32;
    for (int64_t first = 0; first < param_sizes_[t]; first += kBlockSize) {
      if (offset + record_bytes > page_bytes) {
        ++page;
        offset = 0;
      }
      chunks_.push_back({static_cast<uint32_t>(t), page, static_cast<uint32_t>(offset), first});
      offset += record_bytes;
    }
  }
  const size_t num_bytes = chunks_.empty() ? 0 : static_cast<size_t>(page) * page_bytes + offset;
  store_ = std::make_unique<PagedStore>(num_bytes, page_bytes, budget_bytes, spill_dir);
}

void PagedAdamW::update_chunk(const Chunk& chunk, uint8_t* record, float* param, const float* grad, float lr) const {
  const int64_t n = std::min(kBlockSize, param_sizes_[chunk.tensor] - chunk.first_element);
  param += chunk.first_element;
  grad += chunk.first_element;
  if (!is_8bit_[chunk.tensor]) {
    float* m = reinterpret_cast<float*>(record);
    adamw_update_32bit(param, grad, m, m + kBlockSize, n, lr, num_steps_, options_);
    return;
  }
  uint8_t* m_codes = record;
  uint8_t* v_codes = record + kBlockSize;
  float* absmax = reinterpret_cast<float*>(record + 2 * kBlockSize);
  adamw_update_8bit_block(param, grad, m_codes, v_codes, absmax, absmax + 1, n, lr, num_steps_, options_);
}

void PagedAdamW::step(const std::vector<float*>& params, const std::vector<const float*>& grads, float lr) {
  PAGEDLLM_CHECK_MSG(params.size() == param_sizes_.size() && grads.size() == param_sizes_.size(),
                     "optimizer built for {} tensors, stepped with {} params and {} grads", param_sizes_.size(),
                     params.size(), grads.size());
  ++num_steps_;
  // Chunks of one page are updated in parallel; the page stays resident until the next store_->page() call.
  for (size_t begin = 0; begin < chunks_.size();) {
    size_t end = begin;
    while (end < chunks_.size() && chunks_[end].page == chunks_[begin].page) ++end;
    uint8_t* page = store_->page(chunks_[begin].page);
    parallel_for(static_cast<int64_t>(end - begin), 4, [&](int64_t first, int64_t last) {
      for (int64_t c = first; c < last; ++c) {
        const Chunk& chunk = chunks_[begin + c];
        update_chunk(chunk, page + chunk.offset, params[chunk.tensor], grads[chunk.tensor], lr);
      }
    });
    begin = end;
  }
}

void PagedAdamW::save_state(const std::function<void(const uint8_t* data, size_t size)>& sink) {
  size_t remaining = store_->num_bytes();
  for (size_t p = 0; p < store_->num_pages(); ++p) {
    const size_t size = std::min(remaining, store_->page_bytes());
    sink(store_->page(p), size);
    remaining -= size;
  }
}

void PagedAdamW::load_state(int64_t num_steps, const uint8_t* data, size_t size) {
  if (size != store_->num_bytes()) {
    throw_error(ErrorKind::kCorrupt, "optimizer state has {} bytes, expected {} for these LoRA tensors", size,
                store_->num_bytes());
  }
  for (size_t p = 0; p < store_->num_pages(); ++p) {
    const size_t offset = p * store_->page_bytes();
    std::memcpy(store_->page(p), data + offset, std::min(store_->page_bytes(), size - offset));
  }
  num_steps_ = num_steps;
}

}  // namespace pagedllm
