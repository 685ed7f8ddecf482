#include "engine/adapter_base.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "formats/peft_adapter.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace pagedllm {
namespace {

LoraConfig read_adapter_config(const std::string& dir) {
  const std::string path = dir + "/adapter_config.json";
  if (!file_exists(path)) throw_error(ErrorKind::kNotFound, "LoRA adapter {}: no adapter_config.json", dir);
  try {
    return parse_adapter_config(nlohmann::json::parse(read_text_file(path)), path);
  } catch (const nlohmann::json::exception& e) {
    throw_error(ErrorKind::kCorrupt, "{}: invalid JSON ({})", path, e.what());
  }
}

std::string format_name(const std::string& quantization) { return quantization.empty() ? "none" : quantization; }

}  // namespace

std::vector<std::string> match_base_to_adapters(EngineArgs& args) {
  std::vector<std::string> notes;
  std::string chosen, chosen_from;
  bool chosen_double_quant = false, is_conflict = false;
  for (const auto& [name, dir] : args.loras) {
    const LoraConfig c = read_adapter_config(dir);
    if (c.base_quantization.empty()) continue;  // made elsewhere: nothing recorded
    if (!args.quantization.empty()) {
      if (format_name(args.quantization) != c.base_quantization) {
        notes.push_back(fmt::format("WARNING:  LoRA adapter '{}' was trained over a {} base but the base is served as "
                                    "{} (--quantization); its answers may differ from training",
                                    name, c.base_quantization, format_name(args.quantization)));
      }
      continue;
    }
    if (chosen.empty()) {
      chosen = c.base_quantization, chosen_from = name, chosen_double_quant = c.base_double_quant;
    } else if (chosen != c.base_quantization) {
      is_conflict = true;
      notes.push_back(fmt::format("WARNING:  LoRA adapters '{}' ({} base) and '{}' ({} base) disagree; pass "
                                  "--quantization to choose",
                                  chosen_from, chosen, name, c.base_quantization));
    }
  }
  if (args.quantization.empty() && !chosen.empty() && !is_conflict && chosen != "none") {
    args.quantization = chosen;
    args.double_quant = chosen_double_quant;
    notes.push_back(fmt::format("INFO:     serving the base in {}{}, the format LoRA adapter '{}' was trained against "
                                "(pass --quantization none to serve the checkpoint's own weights)",
                                chosen, chosen_double_quant ? " with double quantization" : "", chosen_from));
  }
  return notes;
}

}  // namespace pagedllm
