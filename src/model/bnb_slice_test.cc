#include "model/bnb_slice.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "quant/quantize.h"
#include "util/error.h"

namespace pagedllm {
namespace {

// A (6, 16) NF4 matrix in blocks of 8 with double quantization in nested groups of 4 blocks, so that a band's blocks
// straddle nested groups: the band's rows must still dequantize to exactly the whole matrix's values.
std::unique_ptr<WeightMatrix> whole_nf4() {
  std::vector<float> w(6 * 16);
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(0.37f * float(i)) * (1.0f + float(i % 5));
  QuantConfig q;
  q.block_size = 8;
  q.nested_block_size = 4;
  return quantize_weight(w.data(), 6, 16, q);
}

void expect_band(const WeightMatrix& whole, const WeightMatrix& part, const MatrixSlice& s) {
  std::vector<float> full(whole.n_in()), mine(part.n_in());
  for (int64_t r = 0; r < part.n_out(); ++r) {
    whole.dequantize_row(s.splits_input ? r : s.begin + r, full.data());
    part.dequantize_row(r, mine.data());
    for (int64_t i = 0; i < part.n_in(); ++i) ASSERT_EQ(mine[i], full[(s.splits_input ? s.begin : 0) + i]) << r << "," << i;
  }
}

TEST(BnbSlice, RowAndColumnBandsKeepTheWholeMatrixValues) {
  const auto whole = whole_nf4();
  const MatrixSlice rows{false, 3, 2};  // rows 3..4: elements 48..79, blocks 6..9
  const auto row_band = slice_bnb_4bit(*whole, rows, "w");
  EXPECT_EQ(row_band->n_out(), 2);
  EXPECT_EQ(row_band->format(), WeightFormat::kNF4);
  expect_band(*whole, *row_band, rows);
  const MatrixSlice cols{true, 8, 8};  // the second block of every row
  const auto col_band = slice_bnb_4bit(*whole, cols, "w");
  EXPECT_EQ(col_band->n_out(), 6);
  EXPECT_EQ(col_band->n_in(), 8);
  expect_band(*whole, *col_band, cols);
}

TEST(BnbSlice, BandsOffBlockBoundariesAreRefused) {
  const auto whole = whole_nf4();
  try {
    slice_bnb_4bit(*whole, {true, 4, 8}, "m.weight");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("m.weight: 4-bit blocks of 8 weights laid out for the whole [6, 16] matrix; "
                                         "this rank's columns [4, 12) does not fall on whole blocks"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace pagedllm
