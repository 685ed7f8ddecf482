// A tensor-parallel rank's band of a pre-quantized bitsandbytes 4-bit matrix (a folder written by `pagedllm quantize`
// or transformers + bitsandbytes), cut on block boundaries so that its codes and scales are exactly the whole
// matrix's: the rank computes what one process computes for those rows or columns.
#pragma once

#include <memory>
#include <string>

#include "kernels/weight_matrix.h"
#include "model/tensor_parallel_shard.h"

namespace pagedllm {

// bnb's blocks run over the flattened matrix, so a band of rows must start and end on a block boundary, and a band
// of columns needs rows of whole blocks and a band of whole blocks. Double-quantized scales are kept as their fp32
// values (the nested groups do not survive the cut): 32 bits per block instead of about 8. Throws
// Error(kUnsupported) naming `what`, the block size and the band when the band does not fall on whole blocks.
std::unique_ptr<WeightMatrix> slice_bnb_4bit(const WeightMatrix& whole, const MatrixSlice& slice, const std::string& what);

}  // namespace pagedllm
