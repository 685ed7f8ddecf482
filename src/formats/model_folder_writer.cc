#include "formats/model_folder_writer.h"

#include "formats/checkpoint_layout.h"
#include "util/atomic_file.h"
#include "util/atomic_folder.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace pagedllm {

nlohmann::ordered_json read_config_json(const std::string& model_dir) {
  const std::string path = model_dir + "/config.json";
  if (!file_exists(path)) throw_error(ErrorKind::kNotFound, "{}: no such file", path);
  try {
    return nlohmann::ordered_json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw_error(ErrorKind::kCorrupt, "{}: invalid JSON ({})", path, e.what());
  }
}

void write_model_folder(const std::string& source_dir, const std::string& output_dir,
                        const std::vector<SafetensorsEntry>& tensors, const nlohmann::ordered_json& config) {
  replace_folder_atomically(output_dir, [&](const std::string& staging) {
    write_safetensors(staging + "/model.safetensors", tensors, {{"format", "pt"}});
    write_file_atomically(staging + "/config.json", config.dump(2) + "\n");
    for (const char* name : kModelFolderSideFiles) {
      const std::string src = source_dir + "/" + name;
      if (file_exists(src)) write_file_atomically(staging + "/" + name, read_text_file(src));
    }
  });
}

}  // namespace pagedllm
