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

// The state file's name inside a checkpoint folder.
inline constexpr const char* kTrainingStateFile = "training_state.safetensors";

// Writes a whole checkpoint folder — dir/training_state.safetensors beside the adapter of the same step — with
// replace_folder_atomically (util/atomic_folder.h), so that a kill at any moment leaves dir holding one complete
// step (the file-by-file update left training_state at step 20 beside the step-10 adapter). Throws Error(kIo).
void save_checkpoint_dir(const std::string& dir, const std::vector<LoraModuleWeights>& modules,
                         PagedAdamW& optimizer, const TrainingProgress& progress, const PeftAdapter& adapter);

// Cleans what killed runs left in output_dir before a run starts: "<checkpoint_dir>.partial-*" folders,
// "<checkpoint_dir>.old-*" folders (restored as checkpoint_dir when it is missing), and "*.tmp-<pid>" files of
// AtomicFileWriter in output_dir and checkpoint_dir whose process is gone. Returns the paths removed.
std::vector<std::string> remove_stale_checkpoint_files(const std::string& output_dir,
                                                       const std::string& checkpoint_dir);

}  // namespace pagedllm
