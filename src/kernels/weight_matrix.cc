#include "kernels/weight_matrix.h"

namespace pagedllm {

const char* weight_format_name(WeightFormat format) {
  switch (format) {
    case WeightFormat::kF32: return "F32";
    case WeightFormat::kF16: return "F16";
    case WeightFormat::kBF16: return "BF16";
    case WeightFormat::kQ8_0: return "Q8_0";
    case WeightFormat::kInt8: return "INT8";
    case WeightFormat::kNF4: return "NF4";
    case WeightFormat::kFP4: return "FP4";
    case WeightFormat::kInt4: return "INT4";
  }
  return "unknown";
}

}  // namespace pagedllm
