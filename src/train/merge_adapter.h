// `pagedllm merge`: a LoRA adapter folded into its base model, W' = W + scale·B·A for every adapted linear layer,
// written as a full Hugging Face model folder in F32 (model.safetensors, config.json with torch_dtype float32, and
// the tokenizer / generation files copied). W is the base exactly as the adapter was trained against: for a QLoRA
// adapter, the dequantized 4-bit weights (not the original 16-bit ones), so the merged model computes what
// base + adapter computed in training and serving.
#pragma once

#include <string>

namespace pagedllm {

struct MergeOptions {
  std::string model_dir;
  std::string adapter_dir;
  std::string output_dir;
  // The base's training format (none, nf4, fp4, int4). Empty: the adapter's "pagedllm_base_quantization", or
  // "none" (the checkpoint's own weights) for an adapter made elsewhere.
  std::string quantization;
  bool double_quant = true;  // used with an explicit quantization
};

// Throws Error naming the file for a missing or corrupt model/adapter, Error(kInvalidArgument) for an adapter whose
// modules do not fit the model, Error(kIo) on write failure.
void merge_adapter(const MergeOptions& options);

}  // namespace pagedllm
