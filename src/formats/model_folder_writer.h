// Writes a Hugging Face model folder derived from another (`pagedllm quantize`, `pagedllm merge`): model.safetensors,
// config.json, and the source folder's side files (tokenizer, generation config; checkpoint_layout.h lists them).
// The folder appears whole or not at all (util/atomic_folder.h), so a killed run never leaves a folder that loads
// with half its files.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/safetensors_writer.h"

namespace pagedllm {

// config.json of a model folder, keys in file order. Throws Error(kNotFound / kCorrupt) naming the file.
nlohmann::ordered_json read_config_json(const std::string& model_dir);

// Writes output_dir (replacing a folder already there) from `tensors` and `config`, copying the side files that
// exist in source_dir. Throws Error(kIo) naming the path on a failed write; output_dir is then left as it was.
void write_model_folder(const std::string& source_dir, const std::string& output_dir,
                        const std::vector<SafetensorsEntry>& tensors, const nlohmann::ordered_json& config);

}  // namespace pagedllm
