// QLoRA's finding that NF4 quantizes normally distributed weights best among the 4-bit types: mean squared error of
// quantize → dequantize on N(0, σ) weights and on stories260K's linear layers, printed as a table.
//
// Measured (see the printed tables): NF4 < INT4 < FP4. The paper ranks FP4 (E2M1) above Int4 by perplexity, but
// bitsandbytes' FP4 code book, which we reproduce bit for bit, has a near-zero subnormal (0.0625/12 ≈ 0.005) and
// nothing between it and 2/12, so on normal data its MSE is above the 15 evenly spaced levels of absmax Int4.
// The test therefore asserts what holds for these exact code books: NF4 below both, double quantization costing
// under 1% extra error, and INT8 far below all 4-bit types.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "quant/quantize.h"
#include "util/mapped_file.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

struct Named {
  const char* name;
  QuantConfig config;
};

const Named kFormats[] = {
    {"NF4", {WeightFormat::kNF4, 64, false, 256}},
    {"NF4+DQ", {WeightFormat::kNF4, 64, true, 256}},
    {"FP4", {WeightFormat::kFP4, 64, false, 256}},
    {"INT4", {WeightFormat::kInt4, 64, false, 256}},
    {"INT8", {WeightFormat::kInt8}},
};

// Sum of squared errors of one matrix.
double squared_error(const float* w, int64_t n_out, int64_t n_in, const QuantConfig& config) {
  auto q = quantize_weight(w, n_out, n_in, config);
  std::vector<float> row(n_in);
  double sum = 0;
  for (int64_t j = 0; j < n_out; ++j) {
    q->dequantize_row(j, row.data());
    for (int64_t i = 0; i < n_in; ++i) {
      const double d = static_cast<double>(w[j * n_in + i]) - row[i];
      sum += d * d;
    }
  }
  return sum;
}

void print_table(const char* title, const std::map<std::string, double>& mse) {
  std::string table = fmt::format("{}\n  {:<8} {:>12}\n", title, "format", "MSE");
  for (const auto& f : kFormats) table += fmt::format("  {:<8} {:>12.4e}\n", f.name, mse.at(f.name));
  fmt::print("{}", table);
}

void expect_nf4_lowest(const std::map<std::string, double>& mse) {
  EXPECT_LT(mse.at("NF4"), mse.at("INT4"));
  EXPECT_LT(mse.at("NF4"), mse.at("FP4"));
  EXPECT_LT(mse.at("NF4+DQ"), 1.01 * mse.at("NF4"));
  EXPECT_LT(mse.at("INT8"), mse.at("NF4") / 10);
}

TEST(QuantizationError, Nf4HasTheLowestFourBitErrorOnNormalWeights) {
  Rng rng(5);
  const int64_t n_out = 256, n_in = 1024;
  std::vector<float> w(n_out * n_in);
  for (float& v : w) v = static_cast<float>(0.02 * rng.normal());
  std::map<std::string, double> mse;
  for (const auto& f : kFormats) mse[f.name] = squared_error(w.data(), n_out, n_in, f.config) / w.size();
  print_table("N(0, 0.02) weights, 256x1024:", mse);
  expect_nf4_lowest(mse);
}

// The transformer-block linear layers (2-D F32 tensors under model.layers.) of the stories260K checkpoint,
// read with a minimal safetensors parse: u64 header length, JSON header, then the data.
TEST(QuantizationError, Nf4HasTheLowestFourBitErrorOnStories260k) {
  const std::string path = std::string(PAGEDLLM_SOURCE_DIR) + "/models/stories260K/model.safetensors";
  if (!file_exists(path)) GTEST_SKIP() << path << " is not present";
  MappedFile file(path);
  uint64_t header_size;
  std::memcpy(&header_size, file.data(), 8);
  const auto header = nlohmann::json::parse(file.data() + 8, file.data() + 8 + header_size);
  const uint8_t* data = file.data() + 8 + header_size;
  std::map<std::string, double> sum;
  int64_t count = 0;
  for (const auto& [name, info] : header.items()) {
    if (name.find("model.layers.") != 0 || info["dtype"] != "F32" || info["shape"].size() != 2) continue;
    const int64_t n_out = info["shape"][0], n_in = info["shape"][1];
    std::vector<float> w(n_out * n_in);
    std::memcpy(w.data(), data + info["data_offsets"][0].get<size_t>(), w.size() * sizeof(float));
    for (const auto& f : kFormats) sum[f.name] += squared_error(w.data(), n_out, n_in, f.config);
    count += n_out * n_in;
  }
  ASSERT_GT(count, 0);
  std::map<std::string, double> mse;
  for (const auto& [name, s] : sum) mse[name] = s / count;
  print_table(fmt::format("stories260K linear layers ({} weights):", count).c_str(), mse);
  expect_nf4_lowest(mse);
}

}  // namespace
}  // namespace pagedllm
