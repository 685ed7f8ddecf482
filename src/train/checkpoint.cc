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

void sync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::string parent_of(const std::string& dir) {
  const std::filesystem::path parent = std::filesystem::path(dir).parent_path();
  return parent.empty() ? "." : parent.string();
}

void rename_or_throw(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    throw_error(ErrorKind::kIo, "renaming {} to {} failed: {}", from, to, std::strerror(errno));
  }
}

// Puts `fresh` (a complete folder) at `dir`, whose previous contents end up at `old` (to be removed).
void swap_into_place(const std::string& fresh, const std::string& dir, const std::string& old) {
  if (!std::filesystem::exists(dir)) {
    rename_or_throw(fresh, dir);
    return;
  }
  if (::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0) {
    rename_or_throw(fresh, old);
    return;
  }
  if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
    throw_error(ErrorKind::kIo, "exchanging {} and {} failed: {}", fresh, dir, std::strerror(errno));
  }
  rename_or_throw(dir, old);
  rename_or_throw(fresh, dir);
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
  const std::string pid = std::to_string(::getpid());
  const std::string fresh = dir + ".partial-" + pid;
  const std::string old = dir + ".old-" + pid;
  std::error_code error;
  std::filesystem::remove_all(fresh, error);
  if (!std::filesystem::create_directory(fresh, error) || error) {
    throw_error(ErrorKind::kIo, "cannot create folder {}: {}", fresh, error.message());
  }
  save_checkpoint(fresh + "/" + kTrainingStateFile, modules, optimizer, progress);
  save_peft_adapter(fresh, adapter);
  sync_dir(fresh);
  swap_into_place(fresh, dir, old);
  sync_dir(parent_of(dir));
  std::filesystem::remove_all(old, error);
}

std::vector<std::string> remove_stale_checkpoint_files(const std::string& output_dir,
                                                       const std::string& checkpoint_dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> removed;
  std::error_code error;
  const std::string base = fs::path(checkpoint_dir).filename().string();
  for (const std::string& folder : {output_dir, checkpoint_dir}) {
    if (!fs::is_directory(folder, error)) continue;
    for (const fs::directory_entry& entry : fs::directory_iterator(folder, error)) {
      const std::string name = entry.path().filename().string();
      const bool is_partial = folder == output_dir && name.rfind(base + ".partial-", 0) == 0;
      const bool is_old = folder == output_dir && name.rfind(base + ".old-", 0) == 0;
      const long pid = temp_file_pid(name);
      if (is_old && !fs::exists(checkpoint_dir)) {
        // The fallback swap was cut between its two renames: this is the last complete checkpoint.
        rename_or_throw(entry.path().string(), checkpoint_dir);
      } else if (is_partial || is_old || (pid > 0 && is_process_gone(pid))) {
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
