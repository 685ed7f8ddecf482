#include "train/grad_clip.h"

#include <cmath>

#include "util/error.h"

namespace pagedllm {

double clip_grad_norm(const std::vector<float*>& grads, const std::vector<int64_t>& sizes, double max_norm) {
  PAGEDLLM_CHECK(grads.size() == sizes.size());
  double sum_sq = 0;
  for (size_t t = 0; t < grads.size(); ++t) {
    for (int64_t i = 0; i < sizes[t]; ++i) sum_sq += static_cast<double>(grads[t][i]) * grads[t][i];
  }
  const double total = std::sqrt(sum_sq);
  if (max_norm <= 0) return total;
  const double coef = max_norm / (total + 1e-6);
  if (coef >= 1.0) return total;
  const float scale = static_cast<float>(coef);
  for (size_t t = 0; t < grads.size(); ++t) {
    for (int64_t i = 0; i < sizes[t]; ++i) grads[t][i] *= scale;
  }
  return total;
}

}  // namespace pagedllm
