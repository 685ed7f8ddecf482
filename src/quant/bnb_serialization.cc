#include "quant/bnb_serialization.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "quant/block_scales.h"
#include "quant/blockwise_4bit.h"
#include "util/error.h"

namespace pagedllm {
namespace {

// Python's repr() of a float: the shortest round-trip digits, with ".0" on integral values.
std::string python_float_repr(double value) {
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

WeightFormat format_of_quant_type(std::string_view quant_type, std::string_view tensor_name) {
  if (quant_type == "nf4") return WeightFormat::kNF4;
  if (quant_type == "fp4") return WeightFormat::kFP4;
  throw_error(ErrorKind::kUnsupported, "{}: bitsandbytes quant_type '{}' is not nf4 or fp4", tensor_name, quant_type);
}

template <typename T>
T required_field(const nlohmann::json& object, const char* field, std::string_view tensor_name) {
  auto it = object.find(field);
  if (it == object.end()) {
    throw_error(ErrorKind::kCorrupt, "{}: bitsandbytes quant_state has no '{}'", tensor_name, field);
  }
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw_error(ErrorKind::kCorrupt, "{}: bitsandbytes quant_state field '{}' has the wrong type", tensor_name, field);
  }
}

}  // namespace

Bnb4bitState bnb_4bit_state(const WeightMatrix& weight, std::string dtype) {
  const auto* w = dynamic_cast<const Blockwise4BitWeight*>(&weight);
  if (w == nullptr || (weight.format() != WeightFormat::kNF4 && weight.format() != WeightFormat::kFP4)) {
    throw_error(ErrorKind::kInvalidArgument, "bitsandbytes serialization needs an NF4 or FP4 weight, got {}",
                weight_format_name(weight.format()));
  }
  Bnb4bitState state;
  state.quant_type = weight.format() == WeightFormat::kNF4 ? "nf4" : "fp4";
  state.blocksize = w->block_size();
  state.dtype = std::move(dtype);
  state.shape = {weight.n_out(), weight.n_in()};
  state.weight = w->packed();
  state.quant_map.assign(w->code_values().begin(), w->code_values().end());
  const BlockScales& scales = w->scales();
  state.nested = scales.is_nested();
  if (state.nested) {
    state.absmax_codes = scales.codes();
    state.nested_absmax = scales.nested_absmax();
    state.nested_quant_map = scales.nested_code();
    state.nested_blocksize = scales.nested_block_size();
    state.nested_offset = scales.offset();
  } else {
    state.absmax = scales.absmax();
  }
  return state;
}

std::string bnb_quant_state_key(std::string_view quant_type) {
  return fmt::format("quant_state.bitsandbytes__{}", quant_type);
}

std::string bnb_quant_state_json(const Bnb4bitState& state) {
  std::string shape;
  for (size_t i = 0; i < state.shape.size(); ++i) shape += fmt::format("{}{}", i == 0 ? "" : ", ", state.shape[i]);
  std::string json = fmt::format(R"({{"quant_type": "{}", "blocksize": {}, "dtype": "{}", "shape": [{}])",
                                 state.quant_type, state.blocksize, state.dtype, shape);
  if (state.nested) {
    json +=
        fmt::format(R"(, "nested_blocksize": {}, "nested_dtype": "{}", "nested_offset": {})", state.nested_blocksize,
                    state.nested_dtype, python_float_repr(static_cast<double>(state.nested_offset)));
  }
  return json + "}";
}

void parse_bnb_quant_state_json(std::string_view json, std::string_view tensor_name, Bnb4bitState* state) {
  nlohmann::json object = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) {
    throw_error(ErrorKind::kCorrupt, "{}: bitsandbytes quant_state is not a JSON object", tensor_name);
  }
  state->quant_type = required_field<std::string>(object, "quant_type", tensor_name);
  state->blocksize = required_field<int64_t>(object, "blocksize", tensor_name);
  state->dtype = required_field<std::string>(object, "dtype", tensor_name);
  state->shape = required_field<std::vector<int64_t>>(object, "shape", tensor_name);
  state->nested = object.contains("nested_blocksize");
  if (state->nested) {
    state->nested_blocksize = required_field<int64_t>(object, "nested_blocksize", tensor_name);
    state->nested_dtype = required_field<std::string>(object, "nested_dtype", tensor_name);
    state->nested_offset = static_cast<float>(required_field<double>(object, "nested_offset", tensor_name));
  }
}

std::unique_ptr<WeightMatrix> load_bnb_4bit(Bnb4bitState state, std::string_view tensor_name) {
  const WeightFormat format = format_of_quant_type(state.quant_type, tensor_name);
  if (state.shape.size() != 2 || state.shape[0] <= 0 || state.shape[1] <= 0) {
    throw_error(ErrorKind::kUnsupported, "{}: bitsandbytes 4-bit weight must be a 2-D matrix", tensor_name);
  }
  const int64_t n_out = state.shape[0];
  const int64_t n_in = state.shape[1];
  if (state.blocksize <= 0 || state.blocksize % 2 != 0 || n_in % 2 != 0) {
    throw_error(ErrorKind::kUnsupported, "{}: blocksize {} and row length {} must be even", tensor_name,
                state.blocksize, n_in);
  }
  const auto& expected_map = code_values_4bit(format);
  if (state.quant_map.size() != 16) {
    throw_error(ErrorKind::kCorrupt, "{}: quant_map has {} values, expected 16", tensor_name, state.quant_map.size());
  }
  for (int i = 0; i < 16; ++i) {
    if (std::fabs(state.quant_map[i] - expected_map[i]) > 1e-6f) {
      throw_error(ErrorKind::kUnsupported, "{}: quant_map[{}] = {} is not bitsandbytes' {} value {}", tensor_name, i,
                  state.quant_map[i], state.quant_type, expected_map[i]);
    }
  }
  const std::string what = fmt::format("{}", tensor_name);
  BlockScales scales = state.nested
                           ? BlockScales::from_nested(std::move(state.absmax_codes), std::move(state.nested_absmax),
                                                      static_cast<int>(state.nested_blocksize), state.nested_offset,
                                                      std::move(state.nested_quant_map), what.c_str())
                           : BlockScales::plain(std::move(state.absmax));
  try {
    return std::make_unique<Blockwise4BitWeight>(format, n_out, n_in, state.blocksize, std::move(state.weight),
                                                 std::move(scales));
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("{}: {}", tensor_name, e.what()));
  }
}

}  // namespace pagedllm
