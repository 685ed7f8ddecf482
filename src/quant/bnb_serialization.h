// bitsandbytes' serialization of a 4-bit Linear weight (Linear4bit._save_to_state_dict / QuantState.as_dict(packed),
// research/formats.md §5), so that a folder written by `pagedllm quantize` loads in transformers + bitsandbytes and
// a pre-quantized bitsandbytes checkpoint loads here. For a layer prefix P the tensors are:
//   P.weight                              uint8 [numel / 2, 1]  packed codes (element 2i in the high nibble)
//   P.weight.absmax                       float32 [num_blocks], or uint8 [num_blocks] under double quantization
//   P.weight.quant_map                    float32 [16]          the 4-bit code values
//   P.weight.nested_absmax                float32 [ceil(num_blocks / nested_blocksize)]   (double quant only)
//   P.weight.nested_quant_map             float32 [256]         the dynamic 8-bit map   (double quant only)
//   P.weight.quant_state.bitsandbytes__nf4 (or __fp4)  uint8 [len]  UTF-8 JSON of the non-tensor fields:
//       {"quant_type", "blocksize", "dtype", "shape", ["nested_blocksize", "nested_dtype", "nested_offset"]}
// Only NF4 and FP4 exist in bitsandbytes; INT4 has no bnb serialization.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/weight_matrix.h"

namespace pagedllm {

struct Bnb4bitState {
  std::string quant_type;  // "nf4" or "fp4"
  int64_t blocksize = 64;
  std::string dtype = "float32";      // the dtype of the original weight, as bnb records it (float32/float16/bfloat16)
  std::vector<int64_t> shape;         // {n_out, n_in}
  std::vector<uint8_t> weight;        // packed codes, numel / 2 bytes
  std::vector<float> absmax;          // fp32 constants (when !nested)
  std::vector<uint8_t> absmax_codes;  // 8-bit constants (when nested; bnb stores them as the uint8 `absmax` tensor)
  std::vector<float> quant_map;       // 16 values
  bool nested = false;
  std::vector<float> nested_absmax;
  std::vector<float> nested_quant_map;  // 256 values
  int64_t nested_blocksize = 256;
  std::string nested_dtype = "float32";
  float nested_offset = 0.0f;
};

// The bnb parts of an NF4 or FP4 weight made by quantize_weight or load_bnb_4bit. `dtype` is recorded as the
// original dtype. Throws Error(kInvalidArgument) for any other format.
Bnb4bitState bnb_4bit_state(const WeightMatrix& weight, std::string dtype = "float32");

// The JSON text stored (as UTF-8 bytes) in P.weight.quant_state.bitsandbytes__<quant_type>, laid out as Python's
// json.dumps writes it (", " and ": " separators, floats as repr()).
std::string bnb_quant_state_json(const Bnb4bitState& state);

// The name suffix of the quant-state tensor: "quant_state.bitsandbytes__nf4" or "quant_state.bitsandbytes__fp4".
std::string bnb_quant_state_key(std::string_view quant_type);

// Fills quant_type, blocksize, dtype, shape and the nested_* scalars (nested = presence of nested_blocksize) from
// the JSON text. Throws Error(kCorrupt) naming `tensor_name` and the field on malformed or missing fields.
void parse_bnb_quant_state_json(std::string_view json, std::string_view tensor_name, Bnb4bitState* state);

// The weight matrix over a complete state (the pre-quantized checkpoint loader). Throws Error(kCorrupt) naming
// `tensor_name` when sizes disagree, Error(kUnsupported) when the shape is not 2-D with an even row length (and even
// blocksize) or when quant_map is not bitsandbytes' table for quant_type.
std::unique_ptr<WeightMatrix> load_bnb_4bit(Bnb4bitState state, std::string_view tensor_name);

}  // namespace pagedllm
