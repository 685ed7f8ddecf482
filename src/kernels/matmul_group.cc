#include "kernels/matmul_group.h"

#include <algorithm>
#include <vector>

#include "util/thread_pool.h"

namespace pagedllm {
namespace {

// The job's index space: every product's rows in units of kUnitRows, product after product. The 4-bit kernels take
// rows in fours and their tasks in sixteens; BF16 panels (kernels/bf16_panels.h) in 32s: a task that ends inside a
// panel leaves its neighbour to read the whole panel again.
constexpr int64_t kUnitRows = 32;

int64_t units_of(int64_t rows) { return (rows + kUnitRows - 1) / kUnitRows; }

}  // namespace

void matmul_group(std::span<const GroupedProduct> products, const float* x, int64_t n_rows) {
  if (n_rows <= 0) return;
  std::vector<RowRangeProduct> ranges;
  ranges.reserve(products.size());
  for (const GroupedProduct& p : products) {
    std::optional<RowRangeProduct> range = p.weight->row_range_product(x, p.y, n_rows);
    if (!range) break;
    ranges.push_back(std::move(*range));
  }
  if (ranges.size() != products.size()) {  // a GEMM-sized input: the matrices' own parallel products
    for (const GroupedProduct& p : products) p.weight->matmul(x, p.y, n_rows);
    return;
  }
  std::vector<int64_t> first_unit(ranges.size() + 1, 0);
  int64_t grain = 1;
  for (size_t i = 0; i < ranges.size(); ++i) {
    first_unit[i + 1] = first_unit[i] + units_of(ranges[i].n_out);
    grain = std::max(grain, units_of(ranges[i].min_task_rows));
  }
  parallel_for(first_unit.back(), grain, [&](int64_t begin, int64_t end) {
    for (size_t i = 0; i < ranges.size(); ++i) {
      const int64_t b = std::max(begin, first_unit[i]), e = std::min(end, first_unit[i + 1]);
      if (b >= e) continue;
      ranges[i].run((b - first_unit[i]) * kUnitRows, std::min(ranges[i].n_out, (e - first_unit[i]) * kUnitRows));
    }
  });
}

}  // namespace pagedllm
