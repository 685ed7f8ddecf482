#include "train/dynamic_map.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "util/error.h"

namespace pagedllm {
namespace {

// torch.linspace(start, end, steps) in float32: the first half counts up from start, the second down from end.
std::vector<float> linspace(float start, float end, int steps) {
  const float step = (end - start) / static_cast<float>(steps - 1);
  std::vector<float> out(steps);
  const int halfway = steps / 2;
  for (int i = 0; i < steps; ++i) {
    out[i] = i < halfway ? start + step * static_cast<float>(i) : end - step * static_cast<float>(steps - i - 1);
  }
  return out;
}

// For exponent level i (0 … 6) the map holds the midpoints of linspace(0.1, 1, n + 1), scaled by 10^(i − 6),
// with n = 2^i values per sign (signed) or 2^(i+1) (unsigned: the sign bit becomes a fraction bit); then 0 and 1.
DynamicMap build(bool is_signed) {
  const int max_exponent_bits = 7;
  std::vector<float> data;
  for (int i = 0; i < max_exponent_bits; ++i) {
    const int fraction_items = is_signed ? (1 << i) + 1 : (1 << (i + 1)) + 1;
    const std::vector<float> bounds = linspace(0.1f, 1.0f, fraction_items);
    const float magnitude = static_cast<float>(std::pow(10.0, -(max_exponent_bits - 1) + i));
    for (int j = 0; j + 1 < fraction_items; ++j) {
      const float mean = (bounds[j] + bounds[j + 1]) / 2.0f;
      data.push_back(magnitude * mean);
      if (is_signed) data.push_back(-magnitude * mean);
    }
  }
  data.push_back(0.0f);
  data.push_back(1.0f);
  PAGEDLLM_CHECK(data.size() == 256);
  std::sort(data.begin(), data.end());
  DynamicMap map;
  std::copy(data.begin(), data.end(), map.begin());
  return map;
}

}  // namespace

const DynamicMap& dynamic_map(bool is_signed) {
  static const DynamicMap signed_map = build(true);
  static const DynamicMap unsigned_map = build(false);
  return is_signed ? signed_map : unsigned_map;
}

uint8_t quantize_to_map(const DynamicMap& map, float x) {
  const auto upper = std::lower_bound(map.begin(), map.end(), x);
  if (upper == map.begin()) return 0;
  if (upper == map.end()) return 255;
  const auto lower = upper - 1;
  const bool take_upper = (*upper - x) < (x - *lower);
  return static_cast<uint8_t>((take_upper ? upper : lower) - map.begin());
}

}  // namespace pagedllm
