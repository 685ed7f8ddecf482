#include "train/checkpoint.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>

#include "formats/safetensors.h"
#include "formats/safetensors_writer.h"
#include "util/atomic_folder.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace pagedllm {
namespace {

constexpr const char* kOptimizerTensor = "optimizer.state";

int64_t metadata_int(const SafetensorsFile& file, const std::string& key) {
  const auto it = file.metadata().find(key);
  if (it == file.metadata().end()) throw_error(ErrorKind::kCorrupt, "{}: checkpoint lacks '{}'", file.path(), key);
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    throw_error(ErrorKind::kCorrupt, "{}: checkpoint field '{}' = '{}' is not an integer", file.path(), key,
                it->second);
  }
}

void restore_matrix(const SafetensorsFile& file, const std::string& key, std::vector<float>& out) {
  const TensorView* t = file.find(key);
  if (t == nullptr) throw_error(ErrorKind::kCorrupt, "{}: checkpoint lacks tensor '{}'", file.path(), key);
  if (t->dtype != DType::kF32 || t->num_bytes != out.size() * sizeof(float)) {
    throw_error(ErrorKind::kCorrupt, "{}: tensor '{}' does not match this run's LoRA shapes", file.path(), key);
  }
  std::memcpy(out.data(), t->data, t->num_bytes);
}

// "name.tmp-123" → 123; 0 when the name is not an AtomicFileWriter temporary.
long temp_file_pid(const std::string& name) {
  const size_t at = name.rfind(".tmp-");
  if (at == std::string::npos) return 0;
  char* end = nullptr;
  const long pid = std::strtol(name.c_str() + at + 5, &end, 10);
  return (*end == '\0' && pid > 0) ? pid : 0;
}

bool is_process_gone(long pid) { return pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH; }

}  // namespace

void save_checkpoint_dir(const std::string& dir, const std::vector<LoraModuleWeights>& modules,
                         PagedAdamW& optimizer, const TrainingProgress& progress, const PeftAdapter& adapter) {
  replace_folder_atomically(dir, [&](const std::string& staging) {
    save_checkpoint(staging + "/" + kTrainingStateFile, modules, optimizer, progress);
    save_peft_adapter(staging, adapter);
  });
}

std::vector<std::string> remove_stale_checkpoint_files(const std::string& output_dir,
                                                       const std::string& checkpoint_dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> removed = remove_stale_folder_siblings(checkpoint_dir);
  std::error_code error;
  // AtomicFileWriter temporaries of a dead process, beside the checkpoint and inside it.
  for (const std::string& folder : {output_dir, checkpoint_dir}) {
    if (!fs::is_directory(folder, error)) continue;
    for (const fs::directory_entry& entry : fs::directory_iterator(folder, error)) {
      const long pid = temp_file_pid(entry.path().filename().string());
      if (pid > 0 && is_process_gone(pid)) {
        fs::remove_all(entry.path(), error);
        removed.push_back(entry.path().string());
      }
    }
  }
  return removed;
}

void save_checkpoint(const std::string& path, const std::vector<LoraModuleWeights>& modules, PagedAdamW& optimizer,
                     const TrainingProgress& progress) {
  std::vector<SafetensorsEntry> entries;
  for (const auto& m : modules) {
    entries.push_back(safetensors_entry(peft_lora_key(m.layer, m.module, 'A'), "F32", {m.rank, m.n_in}, m.A.data()));
    entries.push_back(safetensors_entry(peft_lora_key(m.layer, m.module, 'B'), "F32", {m.n_out, m.rank}, m.B.data()));
  }
  const size_t state_bytes = optimizer.state_bytes();
  entries.push_back({kOptimizerTensor, "U8", {static_cast<int64_t>(state_bytes)}, state_bytes,
                     [&optimizer](const ByteSink& sink) {
                       optimizer.save_state([&](const uint8_t* data, size_t size) { sink(data, size); });
                     }});
  std::map<std::string, std::string> metadata = {
      {"format", "pagedllm-training-state"},
      {"step", std::to_string(progress.step)},
      {"optimizer_steps", std::to_string(optimizer.num_steps())},
      {"data_epoch", std::to_string(progress.data.epoch)},
      {"data_index", std::to_string(progress.data.index)}};
  for (int i = 0; i < 4; ++i) metadata["rng_state_" + std::to_string(i)] = std::to_string(progress.rng_state[i]);
  write_safetensors(path, entries, metadata);
}

TrainingProgress load_checkpoint(const std::string& path, std::vector<LoraModuleWeights>& modules,
                                 PagedAdamW& optimizer) {
  if (!file_exists(path)) throw_error(ErrorKind::kNotFound, "{}: no such checkpoint", path);
  const SafetensorsFile file(path);
  const auto format = file.metadata().find("format");
  if (format == file.metadata().end() || format->second != "pagedllm-training-state") {
    throw_error(ErrorKind::kCorrupt, "{}: not a pagedllm training checkpoint", path);
  }
  const size_t num_tensors = 2 * modules.size() + 1;
  if (file.tensors().size() != num_tensors) {
    throw_error(ErrorKind::kCorrupt, "{}: checkpoint has {} tensors, this run has {}", path, file.tensors().size(),
                num_tensors);
  }
  for (auto& m : modules) {
    restore_matrix(file, peft_lora_key(m.layer, m.module, 'A'), m.A);
    restore_matrix(file, peft_lora_key(m.layer, m.module, 'B'), m.B);
  }
  const TensorView* state = file.find(kOptimizerTensor);
  if (state == nullptr || state->dtype != DType::kU8) {
    throw_error(ErrorKind::kCorrupt, "{}: checkpoint lacks a U8 '{}'", path, kOptimizerTensor);
  }
  optimizer.load_state(metadata_int(file, "optimizer_steps"), state->data, state->num_bytes);
  TrainingProgress progress;
  progress.step = metadata_int(file, "step");
  progress.data = {metadata_int(file, "data_epoch"), metadata_int(file, "data_index")};
  for (int i = 0; i < 4; ++i) {
    const auto it = file.metadata().find("rng_state_" + std::to_string(i));
    if (it == file.metadata().end()) throw_error(ErrorKind::kCorrupt, "{}: checkpoint lacks the RNG state", path);
    progress.rng_state[i] = std::stoull(it->second);
  }
  return progress;
}

}  // namespace pagedllm
