#include "kernels/matmul_group.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "util/half.h"
#include "util/rng.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {


std::unique_ptr<WeightMatrix> random_dense(WeightFormat format, int64_t n_out, int64_t n_in, Rng& rng) {
  const int64_t n = n_out * n_in;
  std::vector<uint8_t> bytes(static_cast<size_t>(n * (format == WeightFormat::kF32 ? 4 : 2)));
  for (int64_t i = 0; i < n; ++i) {
    const float v = static_cast<float>(rng.uniform() * 2.0 - 1.0);
    if (format == WeightFormat::kF32) {
      std::memcpy(bytes.data() + 4 * i, &v, 4);
    } else {
      const uint16_t h = format == WeightFormat::kF16 ? f32_to_f16(v) : f32_to_bf16(v);
      std::memcpy(bytes.data() + 2 * i, &h, 2);
    }
  }
  const void* data = bytes.data();
  return make_dense_weight(format, data, n_out, n_in, std::move(bytes));
}

// The group's outputs are those of each matrix's own matmul, bit for bit: every output row is computed by the same
// kernel on the same input whichever task computes it, only the split of W's rows into tasks differs.
void expect_group_matches_separate(const std::vector<std::unique_ptr<WeightMatrix>>& weights, int64_t n_rows,
                                   Rng& rng) {
  const int64_t n_in = weights[0]->n_in();
  std::vector<float> x(static_cast<size_t>(n_rows * n_in));
  for (float& v : x) v = static_cast<float>(rng.uniform() * 2.0 - 1.0);
  std::vector<std::vector<float>> grouped, separate;
  std::vector<GroupedProduct> products;
  for (const auto& w : weights) {
    grouped.emplace_back(static_cast<size_t>(n_rows * w->n_out()), std::numeric_limits<float>::quiet_NaN());
    separate.emplace_back(static_cast<size_t>(n_rows * w->n_out()), std::numeric_limits<float>::quiet_NaN());
  }
  for (size_t i = 0; i < weights.size(); ++i) {
    products.push_back({weights[i].get(), grouped[i].data()});
    weights[i]->matmul(x.data(), separate[i].data(), n_rows);
  }
  matmul_group(products, x.data(), n_rows);
  for (size_t i = 0; i < weights.size(); ++i) {
    for (size_t k = 0; k < grouped[i].size(); ++k) {
      ASSERT_EQ(grouped[i][k], separate[i][k]) << "matrix " << i << " value " << k << " rows " << n_rows;
    }
  }
}

TEST(MatmulGroup, MatchesSeparateProductsForEveryFormatAndBatchSize) {
  Rng rng(11);
  for (WeightFormat format : {WeightFormat::kF32, WeightFormat::kF16, WeightFormat::kBF16}) {
    // q/k/v-like: a large matrix and two small ones, so that tasks straddle the boundaries between matrices.
    std::vector<std::unique_ptr<WeightMatrix>> weights;
    weights.push_back(random_dense(format, 300, 256, rng));
    weights.push_back(random_dense(format, 40, 256, rng));
    weights.push_back(random_dense(format, 37, 256, rng));
    for (int64_t n_rows : {1, 2, 5, 48, 49, 70}) {  // streaming up to 48 rows, GEMM beyond
      SCOPED_TRACE(std::string(weight_format_name(format)) + " rows " + std::to_string(n_rows));
      expect_group_matches_separate(weights, n_rows, rng);
    }
  }
}

TEST(MatmulGroup, MatchesOnOneThreadAndForOneMatrix) {
  Rng rng(12);
  std::vector<std::unique_ptr<WeightMatrix>> one;
  one.push_back(random_dense(WeightFormat::kBF16, 130, 64, rng));
  expect_group_matches_separate(one, 1, rng);
  const int threads = num_threads();
  set_num_threads(1);
  std::vector<std::unique_ptr<WeightMatrix>> two;
  two.push_back(random_dense(WeightFormat::kF32, 64, 64, rng));
  two.push_back(random_dense(WeightFormat::kF32, 17, 64, rng));
  expect_group_matches_separate(two, 3, rng);
  set_num_threads(threads);
}

TEST(MatmulGroup, RowRangeProductIsOnlyOfferedForStreamingSizes) {
  Rng rng(13);
  auto w = random_dense(WeightFormat::kF32, 8, 32, rng);
  std::vector<float> x(64 * 32, 1.0f), y(64 * 8);
  EXPECT_TRUE(w->row_range_product(x.data(), y.data(), 1).has_value());
  EXPECT_TRUE(w->row_range_product(x.data(), y.data(), 48).has_value());
  EXPECT_FALSE(w->row_range_product(x.data(), y.data(), 49).has_value());
  EXPECT_FALSE(w->row_range_product(x.data(), y.data(), 0).has_value());
}

}  // namespace
}  // namespace pagedllm
