#include "train/lora_parameters.h"

#include <algorithm>
#include <cmath>

namespace pagedllm {

std::vector<LoraModuleWeights> init_lora_modules(const std::vector<LoraModuleSpec>& specs, int64_t rank, Rng& rng) {
  std::vector<LoraModuleWeights> modules;
  for (const auto& s : specs) {
    LoraModuleWeights m;
    m.layer = s.layer;
    m.module = s.module;
    m.rank = rank;
    m.n_in = s.n_in;
    m.n_out = s.n_out;
    const double bound = 1.0 / std::sqrt(static_cast<double>(s.n_in));
    m.A.resize(rank * s.n_in);
    for (auto& a : m.A) a = static_cast<float>(bound * (2.0 * rng.uniform() - 1.0));
    m.B.assign(s.n_out * rank, 0.0f);
    modules.push_back(std::move(m));
  }
  return modules;
}

std::vector<LoraModuleWeights> zero_like(const std::vector<LoraModuleWeights>& modules) {
  std::vector<LoraModuleWeights> grads = modules;
  set_zero(grads);
  return grads;
}

void set_zero(std::vector<LoraModuleWeights>& grads) {
  for (auto& g : grads) {
    std::fill(g.A.begin(), g.A.end(), 0.0f);
    std::fill(g.B.begin(), g.B.end(), 0.0f);
  }
}

std::vector<float*> parameter_tensors(std::vector<LoraModuleWeights>& modules) {
  std::vector<float*> out;
  for (auto& m : modules) {
    out.push_back(m.A.data());
    out.push_back(m.B.data());
  }
  return out;
}

std::vector<int64_t> parameter_sizes(const std::vector<LoraModuleWeights>& modules) {
  std::vector<int64_t> out;
  for (const auto& m : modules) {
    out.push_back(static_cast<int64_t>(m.A.size()));
    out.push_back(static_cast<int64_t>(m.B.size()));
  }
  return out;
}

}  // namespace pagedllm
