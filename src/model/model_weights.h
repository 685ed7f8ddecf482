// The weights of a Llama-family decoder (Llama, Mistral, Qwen2), loaded from a Hugging Face folder or filled
// with random values (--load-format dummy). Linear layers are WeightMatrix objects in whatever format they were
// loaded or quantized to; norms and biases are fp32.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "formats/checkpoint_layout.h"
#include "formats/model_config.h"
#include "formats/safetensors.h"
#include "kernels/weight_matrix.h"
#include "model/tensor_parallel_shard.h"

namespace pagedllm {

struct LayerWeights {
  std::vector<float> input_layernorm;           // (hidden)
  std::vector<float> post_attention_layernorm;  // (hidden)
  // Indexed by LinearModule (q, k, v, o, gate, up, down); shapes (n_out, n_in) from linear_module_shape.
  std::array<std::unique_ptr<WeightMatrix>, kNumLinearModules> linears;
  // (n_out) each; empty unless the family gives that module a bias (linear_module_shape's has_bias).
  std::array<std::vector<float>, kNumLinearModules> biases;

  const WeightMatrix& linear(int module) const { return *linears[module]; }
};

// Turns a loaded fp32 matrix into the format the user asked for (quantization while loading). Receives the
// tensor name so it can skip layers; returns nullptr to keep the checkpoint's own format.
using WeightTransform =
    std::function<std::unique_ptr<WeightMatrix>(const std::string& name, const float* data, int64_t n_out, int64_t n_in)>;

struct WeightLoadOptions {
  std::string dtype = "auto";  // "auto" (as stored), "float32", "bfloat16", "float16"
  bool dummy = false;          // random weights; the folder needs only config.json
  uint64_t dummy_seed = 0;
  WeightTransform transform_linear;   // applied to every linear layer of the blocks
  WeightTransform transform_lm_head;  // applied to the LM head (not the embeddings) when set
  // Load only this rank's slices (model/tensor_parallel_shard.h). Dense checkpoint tensors split by rows are mapped,
  // not copied, so a rank reads only its own pages; quantization while loading quantizes the slice.
  TensorParallelShard shard;
  // --kv-cache-dtype, resolved into config.kv_cache_dtype once the weights' format is known ("auto": float32
  // for fp32 linear layers, else bfloat16). Not a weight property, but the config is what the KV cache is built
  // from.
  std::string kv_cache_dtype = "auto";
  // Serving: BF16 matrices stored as bf16 panels where bf16_panels_pay_off() (kernels/weight_matrix.h), so the
  // many-row products need not repack them; a mapped checkpoint's pages are released once copied. Training keeps
  // row-major weights (its backward products read them transposed).
  bool bf16_panels = false;
};

struct ModelWeights {
  ModelConfig config;        // the whole model, as config.json gives it
  TensorParallelShard shard;
  ModelConfig shard_config;  // this rank's heads and MLP width (shard_model_config); == config without sharding
  std::unique_ptr<SafetensorsCheckpoint> checkpoint;  // keeps mapped tensors alive
  std::shared_ptr<WeightMatrix> embed_tokens;         // (vocab, hidden)
  std::vector<LayerWeights> layers;                   // linears and biases: this rank's slices
  std::vector<float> norm;                            // (hidden)
  // (vocab, hidden); the same object as embed_tokens when tied and not sharded. Sharded: this rank's
  // vocab_slice rows.
  std::shared_ptr<WeightMatrix> lm_head;
  size_t num_bytes() const;
};

// The quantize-while-loading transform for --quantization NAME (nf4, fp4, int4, int8, q8_0; "" or "none" gives
// nullptr). Q8_0 keeps rows that are not a whole number of its 32-wide blocks as loaded, the 4-bit formats rows of
// odd length. `block_size` is the
// number of weights per absmax of the 4-bit formats (bitsandbytes' blocksize; 64 as in QLoRA). Throws
// Error(kInvalidArgument) for an unknown format or a block size that is not an even number in [2, 4096].
WeightTransform make_quantize_transform(const std::string& quantization, bool double_quant, int block_size = 64);

// Throws Error naming the file and tensor for a missing tensor, a wrong shape, or an unsupported dtype; with
// options.shard, Error(kInvalidArgument) for a model whose heads or MLP do not split evenly and Error(kUnsupported)
// for a pre-quantized 4-bit matrix whose slice does not fall on whole blocks (model/bnb_slice.h).
ModelWeights load_model_weights(const std::string& model_dir, const WeightLoadOptions& options);

}  // namespace pagedllm
