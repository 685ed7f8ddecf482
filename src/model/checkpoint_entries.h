// The tensors of loaded ModelWeights as safetensors entries under their Hugging Face names, in checkpoint order:
// embeddings; per layer the two norms and each linear module's bias and weight; the final norm; the LM head unless
// it is tied. Shared by every writer of a model folder (`quantize`, `merge`): they differ only in how a linear
// module's weight is encoded, which the caller supplies.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "formats/safetensors_writer.h"
#include "model/model_weights.h"

namespace pagedllm {

// Appends the entries that store linear module `module` of `layer` (its weight; the bias is added separately).
using LinearEntries =
    std::function<void(int layer, int module, const WeightMatrix& w, std::vector<SafetensorsEntry>& out)>;

// Entries borrow `weights` (and what linear_entries borrows), which must outlive the write.
std::vector<SafetensorsEntry> checkpoint_entries(const ModelWeights& weights, const LinearEntries& linear_entries);

// An F32 entry of W (n_out, n_in), dequantized row by row when the writer asks for its bytes; add_to_rows (when set)
// then adds to the (n_out, n_in) fp32 rows before they are written (a merged adapter's scale·B·A).
SafetensorsEntry dequantized_entry(std::string name, const WeightMatrix& w,
                                   std::function<void(float* rows)> add_to_rows = nullptr);

}  // namespace pagedllm
