// Test helpers for gradient checks: central finite differences in double precision.
// Every check uses the scalar loss L = Σ out ⊙ r with a fixed random r, so dout = r feeds the backward.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "util/rng.h"

namespace pagedllm::testing {

inline std::vector<double> random_vector(Rng& rng, size_t n, double scale = 1.0) {
  std::vector<double> v(n);
  for (auto& x : v) x = scale * (2.0 * rng.uniform() - 1.0);
  return v;
}

inline double weighted_sum(const std::vector<double>& out, const std::vector<double>& r) {
  double sum = 0;
  for (size_t i = 0; i < out.size(); ++i) sum += out[i] * r[i];
  return sum;
}

// dL/dx_i ≈ (L(x + h·e_i) − L(x − h·e_i)) / 2h. With h = 1e-5 in double the truncation error is O(h²) ≈ 1e-10
// relative and the rounding error ≈ 1e-16 / 1e-5 = 1e-11, so analytic gradients agree to ~1e-9.
inline std::vector<double> numeric_gradient(std::vector<double>& x, const std::function<double()>& loss,
                                            double h = 1e-5) {
  std::vector<double> grad(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + h;
    const double plus = loss();
    x[i] = saved - h;
    const double minus = loss();
    x[i] = saved;
    grad[i] = (plus - minus) / (2 * h);
  }
  return grad;
}

// max_i |a_i − n_i| / max_i |n_i|: the error relative to the gradient's scale (element-wise ratios blow up on
// entries that are zero by symmetry).
inline double max_relative_error(const std::vector<double>& analytic, const std::vector<double>& numeric) {
  double max_diff = 0, max_ref = 1e-300;
  for (size_t i = 0; i < numeric.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(analytic[i] - numeric[i]));
    max_ref = std::max(max_ref, std::abs(numeric[i]));
  }
  return max_diff / max_ref;
}

// The bound every double-precision gradient check asserts (see numeric_gradient for the expected error).
inline constexpr double kGradCheckTolerance = 1e-7;

}  // namespace pagedllm::testing
