// The resumable state of a fine-tuning run in one file, written atomically so that a run killed at any moment
// (SIGKILL included) resumes from the last complete checkpoint and ends with a bit-identical adapter:
// LoRA A/B (F32, PEFT key names), the optimizer's paged state (one U8 tensor) and, in the header metadata, the
// step, the optimizer's step count, the RNG state and the data position. The file is a safetensors file.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "train/data_loader.h"
#include "train/paged_adamw.h"
#include "formats/peft_adapter.h"

namespace pagedllm {

struct TrainingProgress {
  int64_t step = 0;                       // optimizer steps completed
  std::array<uint64_t, 4> rng_state{};    // Rng::state() of the run's generator
  DataPosition data;                      // DataLoader::position() after the last consumed batch
};

// Writes path atomically. Throws Error(kIo) on failure.
void save_checkpoint(const std::string& path, const std::vector<LoraModuleWeights>& modules, PagedAdamW& optimizer,
                     const TrainingProgress& progress);

// Restores into modules (which must have the saved layers, names and shapes: the same run configuration) and
// optimizer (built for the same parameter sizes and kind). Throws Error(kNotFound) for a missing file,
// Error(kCorrupt) naming the file and the field or tensor that does not match.
TrainingProgress load_checkpoint(const std::string& path, std::vector<LoraModuleWeights>& modules,
                                 PagedAdamW& optimizer);

}  // namespace pagedllm
