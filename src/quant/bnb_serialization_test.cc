#include "quant/bnb_serialization.h"

#include <gtest/gtest.h>

#include "quant/blockwise_4bit.h"
#include "quant/codebooks.h"
#include "quant/quantize.h"
#include "util/error.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

// One row of five blocks whose absmax are 1, 2, 3, 2.5, 1.5 (see block_scales_test for the nested constants).
std::vector<float> five_blocks() {
  std::vector<float> w(320, 0.0f);
  const float absmax[5] = {1.0f, 2.0f, 3.0f, 2.5f, 1.5f};
  for (int b = 0; b < 5; ++b) {
    w[b * 64] = absmax[b];
    w[b * 64 + 1] = -0.3f * absmax[b];
  }
  return w;
}

TEST(BnbSerialization, StateHoldsBitsandbytesTensors) {
  const auto w = five_blocks();
  auto matrix = quantize_weight(w.data(), 1, 320, {WeightFormat::kNF4, 64, true, 256});
  const Bnb4bitState state = bnb_4bit_state(*matrix, "bfloat16");
  EXPECT_EQ(state.quant_type, "nf4");
  EXPECT_EQ(state.shape, (std::vector<int64_t>{1, 320}));
  EXPECT_EQ(state.weight.size(), 160u);
  EXPECT_EQ(state.weight[0], 0xF4);  // 1 → 15; -0.3 (> -0.3397, ≤ -0.2346) → 4
  EXPECT_EQ(state.weight[1], 0x77);  // zeros → 7
  EXPECT_TRUE(state.nested);
  EXPECT_EQ(state.absmax_codes, (std::vector<uint8_t>{0, 127, 255, 219, 35}));
  EXPECT_EQ(state.nested_absmax, std::vector<float>{1.0f});
  EXPECT_EQ(state.nested_offset, 2.0f);
  EXPECT_EQ(state.quant_map, std::vector<float>(kNf4Values.begin(), kNf4Values.end()));
  EXPECT_EQ(state.nested_quant_map.size(), 256u);
  EXPECT_EQ(bnb_quant_state_key(state.quant_type), "quant_state.bitsandbytes__nf4");
  // Python's json.dumps of bnb's non-tensor dict, key order as QuantState.as_dict inserts them.
  EXPECT_EQ(bnb_quant_state_json(state),
            R"({"quant_type": "nf4", "blocksize": 64, "dtype": "bfloat16", "shape": [1, 320], )"
            R"("nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": 2.0})");
}

TEST(BnbSerialization, PlainStateJsonHasNoNestedFields) {
  const auto w = five_blocks();
  auto matrix = quantize_weight(w.data(), 1, 320, {WeightFormat::kFP4, 64, false, 256});
  const Bnb4bitState state = bnb_4bit_state(*matrix);
  EXPECT_FALSE(state.nested);
  EXPECT_EQ(state.absmax, (std::vector<float>{1.0f, 2.0f, 3.0f, 2.5f, 1.5f}));
  EXPECT_EQ(bnb_quant_state_json(state),
            R"({"quant_type": "fp4", "blocksize": 64, "dtype": "float32", "shape": [1, 320]})");
}

// Serialize → JSON + tensors → parse → load reproduces every dequantized value exactly.
TEST(BnbSerialization, LoadReproducesTheQuantizedWeight) {
  Rng rng(21);
  const int64_t n_out = 48, n_in = 172;
  std::vector<float> w(n_out * n_in);
  for (float& v : w) v = static_cast<float>(0.02 * rng.normal());
  for (bool double_quant : {false, true}) {
    auto matrix = quantize_weight(w.data(), n_out, n_in, {WeightFormat::kNF4, 64, double_quant, 256});
    const Bnb4bitState saved = bnb_4bit_state(*matrix);
    Bnb4bitState loaded;
    parse_bnb_quant_state_json(bnb_quant_state_json(saved), "layer.weight", &loaded);
    EXPECT_EQ(loaded.nested, double_quant);
    loaded.weight = saved.weight;
    loaded.absmax = saved.absmax;
    loaded.absmax_codes = saved.absmax_codes;
    loaded.quant_map = saved.quant_map;
    loaded.nested_absmax = saved.nested_absmax;
    loaded.nested_quant_map = saved.nested_quant_map;
    auto reloaded = load_bnb_4bit(std::move(loaded), "layer.weight");
    EXPECT_EQ(reloaded->num_bytes(), matrix->num_bytes());
    std::vector<float> a(n_in), b(n_in);
    for (int64_t j = 0; j < n_out; ++j) {
      matrix->dequantize_row(j, a.data());
      reloaded->dequantize_row(j, b.data());
      ASSERT_EQ(a, b) << j;
    }
  }
}

void expect_error(ErrorKind kind, const std::function<void()>& fn) {
  try {
    fn();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find("layer.weight"), std::string::npos) << e.what();
  }
}

TEST(BnbSerialization, BadStatesAreRejectedWithTheTensorName) {
  const auto w = five_blocks();
  auto matrix = quantize_weight(w.data(), 1, 320, {WeightFormat::kNF4, 64, false, 256});
  const Bnb4bitState good = bnb_4bit_state(*matrix);
  Bnb4bitState state;
  expect_error(ErrorKind::kCorrupt, [&] { parse_bnb_quant_state_json("{not json", "layer.weight", &state); });
  expect_error(ErrorKind::kCorrupt,
               [&] { parse_bnb_quant_state_json(R"({"quant_type": "nf4"})", "layer.weight", &state); });
  expect_error(ErrorKind::kCorrupt, [&] {
    parse_bnb_quant_state_json(R"({"quant_type": "nf4", "blocksize": "64", "dtype": "float32", "shape": [1, 320]})",
                               "layer.weight", &state);
  });
  expect_error(ErrorKind::kUnsupported, [&] {
    Bnb4bitState s = good;
    s.quant_type = "int4";
    load_bnb_4bit(std::move(s), "layer.weight");
  });
  expect_error(ErrorKind::kCorrupt, [&] {
    Bnb4bitState s = good;
    s.weight.pop_back();
    load_bnb_4bit(std::move(s), "layer.weight");
  });
  expect_error(ErrorKind::kCorrupt, [&] {
    Bnb4bitState s = good;
    s.absmax.push_back(1.0f);
    load_bnb_4bit(std::move(s), "layer.weight");
  });
  expect_error(ErrorKind::kUnsupported, [&] {
    Bnb4bitState s = good;
    s.quant_map[3] = 0.5f;
    load_bnb_4bit(std::move(s), "layer.weight");
  });
  auto int4 = quantize_weight(w.data(), 1, 320, {WeightFormat::kInt4, 64, false, 256});
  EXPECT_THROW(bnb_4bit_state(*int4), Error);
}

}  // namespace
}  // namespace pagedllm
