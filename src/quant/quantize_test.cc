#include "quant/quantize.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace pagedllm {
namespace {

TEST(Quantize, ParsesEveryFormatName) {
  EXPECT_EQ(parse_weight_format("nf4"), WeightFormat::kNF4);
  EXPECT_EQ(parse_weight_format("FP4"), WeightFormat::kFP4);
  EXPECT_EQ(parse_weight_format("int4"), WeightFormat::kInt4);
  EXPECT_EQ(parse_weight_format("int8"), WeightFormat::kInt8);
  EXPECT_EQ(parse_weight_format("q8_0"), WeightFormat::kQ8_0);
  EXPECT_EQ(parse_weight_format("f32"), WeightFormat::kF32);
  EXPECT_EQ(parse_weight_format("f16"), WeightFormat::kF16);
  EXPECT_EQ(parse_weight_format("bf16"), WeightFormat::kBF16);
}

TEST(Quantize, UnknownFormatNamesTheChoices) {
  try {
    parse_weight_format("nf5");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("nf5"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("nf4, fp4, int4, int8, q8_0, f32, f16, bf16"), std::string::npos);
  }
}

TEST(Quantize, ProducesTheRequestedFormat) {
  std::vector<float> w(4 * 64);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 7) - 3.0f;
  for (WeightFormat format : {WeightFormat::kNF4, WeightFormat::kFP4, WeightFormat::kInt4, WeightFormat::kInt8,
                              WeightFormat::kQ8_0, WeightFormat::kF32, WeightFormat::kF16, WeightFormat::kBF16}) {
    QuantConfig config;
    config.format = format;
    auto m = quantize_weight(w.data(), 4, 64, config);
    EXPECT_EQ(m->format(), format);
    EXPECT_EQ(m->n_out(), 4);
    EXPECT_EQ(m->n_in(), 64);
  }
  // Small integers are exact in every dense format.
  auto bf16 = quantize_weight(w.data(), 4, 64, {WeightFormat::kBF16});
  std::vector<float> row(64);
  bf16->dequantize_row(2, row.data());
  EXPECT_EQ(row, std::vector<float>(w.begin() + 128, w.begin() + 192));
}

TEST(Quantize, RejectsBadShapes) {
  std::vector<float> w(64, 1.0f);
  EXPECT_THROW(quantize_weight(w.data(), 0, 64, {WeightFormat::kNF4}), Error);
  EXPECT_THROW(quantize_weight(w.data(), 1, 63, {WeightFormat::kNF4}), Error);
  EXPECT_THROW(quantize_weight(w.data(), 2, 24, {WeightFormat::kQ8_0}), Error);
}

}  // namespace
}  // namespace pagedllm
