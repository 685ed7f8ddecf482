#include "formats/model_folder_writer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

#include "formats/checkpoint_layout.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace pagedllm {
namespace fs = std::filesystem;

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
  const fs::path output = fs::path(output_dir).lexically_normal();
  const fs::path parent = output.has_parent_path() ? output.parent_path() : fs::path(".");
  const std::string leaf = output.filename().string();
  const fs::path staging = parent / fmt::format(".{}.tmp-{}", leaf, ::getpid());
  const fs::path replaced = parent / fmt::format(".{}.old-{}", leaf, ::getpid());
  std::error_code ec;
  fs::create_directories(parent, ec);
  fs::remove_all(staging, ec);
  if (!fs::create_directory(staging, ec)) {
    throw_error(ErrorKind::kIo, "cannot create folder {}: {}", staging.string(), ec.message());
  }
  try {
    write_safetensors((staging / "model.safetensors").string(), tensors, {{"format", "pt"}});
    write_file_atomically((staging / "config.json").string(), config.dump(2) + "\n");
    for (const char* name : kModelFolderSideFiles) {
      const std::string src = source_dir + "/" + name;
      if (file_exists(src)) write_file_atomically((staging / name).string(), read_text_file(src));
    }
    // A folder cannot be renamed over a non-empty one: the old folder steps aside first and is removed after.
    if (fs::exists(output)) fs::rename(output, replaced);
    fs::rename(staging, output);
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(staging, ec);
    if (!fs::exists(output) && fs::exists(replaced)) fs::rename(replaced, output, ec);
    throw_error(ErrorKind::kIo, "cannot write model folder {}: {}", output_dir, e.what());
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }
  fs::remove_all(replaced, ec);
}

}  // namespace pagedllm
