#include "quant/quantize.h"

#include <array>
#include <cctype>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "quant/blockwise_4bit.h"
#include "quant/int8_weight.h"
#include "quant/q8_0_weight.h"
#include "util/error.h"
#include "util/half.h"

namespace pagedllm {
namespace {

constexpr std::array<std::pair<const char*, WeightFormat>, 8> kFormatNames = {{
    {"nf4", WeightFormat::kNF4},
    {"fp4", WeightFormat::kFP4},
    {"int4", WeightFormat::kInt4},
    {"int8", WeightFormat::kInt8},
    {"q8_0", WeightFormat::kQ8_0},
    {"f32", WeightFormat::kF32},
    {"f16", WeightFormat::kF16},
    {"bf16", WeightFormat::kBF16},
}};

std::unique_ptr<WeightMatrix> convert_dense(const float* w, int64_t n_out, int64_t n_in, WeightFormat format) {
  const size_t count = static_cast<size_t>(n_out * n_in);
  std::vector<uint8_t> bytes;
  if (format == WeightFormat::kF32) {
    bytes.resize(count * sizeof(float));
    std::memcpy(bytes.data(), w, bytes.size());
  } else {
    bytes.resize(count * sizeof(uint16_t));
    for (size_t i = 0; i < count; ++i) {
      const uint16_t h = format == WeightFormat::kF16 ? f32_to_f16(w[i]) : f32_to_bf16(w[i]);
      std::memcpy(bytes.data() + 2 * i, &h, 2);
    }
  }
  const void* data = bytes.data();
  return make_dense_weight(format, data, n_out, n_in, std::move(bytes));
}

}  // namespace

bool is_4bit_format(WeightFormat format) {
  return format == WeightFormat::kNF4 || format == WeightFormat::kFP4 || format == WeightFormat::kInt4;
}

std::unique_ptr<WeightMatrix> quantize_weight(const float* w, int64_t n_out, int64_t n_in, const QuantConfig& config) {
  if (n_out <= 0 || n_in <= 0) {
    throw_error(ErrorKind::kInvalidArgument, "quantize_weight: shape ({}, {}) must be positive", n_out, n_in);
  }
  switch (config.format) {
    case WeightFormat::kNF4:
    case WeightFormat::kFP4:
    case WeightFormat::kInt4:
      if (config.double_quant && config.nested_block_size <= 0) {
        throw_error(ErrorKind::kInvalidArgument, "quantize_weight: nested block size {} must be positive",
                    config.nested_block_size);
      }
      return quantize_blockwise_4bit(config.format, w, n_out, n_in, config.block_size, config.double_quant,
                                     config.nested_block_size);
    case WeightFormat::kInt8: return quantize_int8_rows(w, n_out, n_in);
    case WeightFormat::kQ8_0: return quantize_q8_0(w, n_out, n_in);
    case WeightFormat::kF32:
    case WeightFormat::kF16:
    case WeightFormat::kBF16: return convert_dense(w, n_out, n_in, config.format);
  }
  throw_error(ErrorKind::kInvalidArgument, "quantize_weight: unknown format {}", static_cast<int>(config.format));
}

WeightFormat parse_weight_format(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& [choice, format] : kFormatNames) {
    if (lower == choice) return format;
  }
  throw_error(ErrorKind::kInvalidArgument,
              "unknown weight format '{}'; choose one of nf4, fp4, int4, int8, q8_0, f32, f16, bf16", name);
}

}  // namespace pagedllm
