#include "formats/peft_adapter.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>
#include <regex>

#include "formats/checkpoint_layout.h"
#include "formats/safetensors.h"
#include "formats/safetensors_writer.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace pagedllm {
namespace {

constexpr const char* kConfigFile = "adapter_config.json";
constexpr const char* kWeightsFile = "adapter_model.safetensors";

void make_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    throw_error(ErrorKind::kIo, "cannot create adapter folder {}: {}", dir, std::strerror(errno));
  }
}

template <typename T>
T required(const nlohmann::json& json, const char* key, const std::string& path) {
  const auto it = json.find(key);
  if (it == json.end()) throw_error(ErrorKind::kCorrupt, "{}: missing \"{}\"", path, key);
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw_error(ErrorKind::kCorrupt, "{}: \"{}\" has the wrong type", path, key);
  }
}

bool is_set(const nlohmann::json& json, const char* key) {
  const auto it = json.find(key);
  if (it == json.end() || it->is_null()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_object() || it->is_array()) return !it->empty();
  return true;
}

void check_module(const LoraModuleWeights& m) {
  if (m.rank <= 0 || m.n_in <= 0 || m.n_out <= 0 || static_cast<int64_t>(m.A.size()) != m.rank * m.n_in ||
      static_cast<int64_t>(m.B.size()) != m.n_out * m.rank) {
    throw_error(ErrorKind::kInvalidArgument,
                "LoRA module layers.{}.{}: A has {} values and B {}, but rank {}, n_in {}, n_out {}", m.layer,
                m.module, m.A.size(), m.B.size(), m.rank, m.n_in, m.n_out);
  }
}

}  // namespace

double LoraConfig::scale() const {
  return use_rslora ? lora_alpha / std::sqrt(static_cast<double>(r)) : lora_alpha / static_cast<double>(r);
}

std::string peft_lora_key(int64_t layer, const std::string& module, char which) {
  const int index = find_linear_module(module);
  PAGEDLLM_CHECK_MSG(index >= 0, "'{}' is not a linear module of a decoder layer", module);
  return tensor_names::peft_lora(layer, index, which);
}

nlohmann::json adapter_config_json(const LoraConfig& c) {
  std::vector<std::string> targets = c.target_modules;
  std::sort(targets.begin(), targets.end());
  nlohmann::json json = {{"alpha_pattern", nlohmann::json::object()},
          {"auto_mapping", nullptr},
          {"base_model_name_or_path", c.base_model_name_or_path},
          {"bias", "none"},
          {"fan_in_fan_out", false},
          {"inference_mode", true},
          {"init_lora_weights", true},
          {"layer_replication", nullptr},
          {"layers_pattern", nullptr},
          {"layers_to_transform", nullptr},
          {"loftq_config", nlohmann::json::object()},
          {"lora_alpha", c.lora_alpha},
          {"lora_dropout", c.lora_dropout},
          {"megatron_config", nullptr},
          {"megatron_core", "megatron.core"},
          {"modules_to_save", nullptr},
          {"peft_type", "LORA"},
          {"r", c.r},
          {"rank_pattern", nlohmann::json::object()},
          {"revision", nullptr},
          {"target_modules", targets},
          {"task_type", "CAUSAL_LM"},
          {"use_dora", false},
          {"use_rslora", c.use_rslora}};
  if (!c.base_quantization.empty()) {
    json["pagedllm_base_quantization"] = c.base_quantization;
    json["pagedllm_base_double_quant"] = c.base_double_quant;
  }
  return json;
}

LoraConfig parse_adapter_config(const nlohmann::json& json, const std::string& path) {
  if (!json.is_object()) throw_error(ErrorKind::kCorrupt, "{}: not a JSON object", path);
  const std::string peft_type = required<std::string>(json, "peft_type", path);
  if (peft_type != "LORA") throw_error(ErrorKind::kUnsupported, "{}: peft_type {} is not LORA", path, peft_type);
  if (is_set(json, "use_dora")) throw_error(ErrorKind::kUnsupported, "{}: DoRA adapters are not supported", path);
  if (is_set(json, "fan_in_fan_out")) throw_error(ErrorKind::kUnsupported, "{}: fan_in_fan_out is not supported", path);
  if (is_set(json, "rank_pattern") || is_set(json, "alpha_pattern")) {
    throw_error(ErrorKind::kUnsupported, "{}: per-module rank_pattern/alpha_pattern are not supported", path);
  }
  if (json.contains("bias") && json["bias"] != "none") {
    throw_error(ErrorKind::kUnsupported, "{}: bias {} is not supported (only \"none\")", path, json["bias"].dump());
  }
  LoraConfig c;
  c.r = required<int64_t>(json, "r", path);
  c.lora_alpha = required<double>(json, "lora_alpha", path);
  if (c.r <= 0) throw_error(ErrorKind::kCorrupt, "{}: r = {} must be positive", path, c.r);
  if (!std::isfinite(c.lora_alpha)) throw_error(ErrorKind::kCorrupt, "{}: lora_alpha must be a finite number", path);
  if (json.contains("lora_dropout")) c.lora_dropout = required<double>(json, "lora_dropout", path);
  if (json.contains("use_rslora")) c.use_rslora = required<bool>(json, "use_rslora", path);
  if (is_set(json, "base_model_name_or_path")) {
    c.base_model_name_or_path = required<std::string>(json, "base_model_name_or_path", path);
  }
  if (json.contains("pagedllm_base_quantization")) {
    c.base_quantization = required<std::string>(json, "pagedllm_base_quantization", path);
    c.base_double_quant = json.value("pagedllm_base_double_quant", false);
  }
  const auto targets = json.find("target_modules");
  if (targets != json.end() && targets->is_array()) {
    c.target_modules = targets->get<std::vector<std::string>>();
  } else if (targets != json.end() && targets->is_string()) {
    c.target_modules = {targets->get<std::string>()};  // a regex or "all-linear": kept verbatim
  }
  return c;
}

void save_peft_adapter(const std::string& dir, const PeftAdapter& adapter) {
  if (adapter.modules.empty()) {
    throw_error(ErrorKind::kInvalidArgument, "refusing to write adapter {}: it has no LoRA tensors", dir);
  }
  std::vector<SafetensorsEntry> entries;
  for (const auto& m : adapter.modules) {
    check_module(m);
    entries.push_back(safetensors_entry(peft_lora_key(m.layer, m.module, 'A'), "F32", {m.rank, m.n_in}, m.A.data()));
    entries.push_back(safetensors_entry(peft_lora_key(m.layer, m.module, 'B'), "F32", {m.n_out, m.rank}, m.B.data()));
  }
  make_dir(dir);
  write_safetensors(dir + "/" + kWeightsFile, entries, {{"format", "pt"}});
  write_file_atomically(dir + "/" + kConfigFile, adapter_config_json(adapter.config).dump(2) + "\n");
}

PeftAdapter load_peft_adapter(const std::string& dir) {
  const std::string config_path = dir + "/" + kConfigFile;
  const std::string weights_path = dir + "/" + kWeightsFile;
  PeftAdapter adapter;
  try {
    adapter.config = parse_adapter_config(nlohmann::json::parse(read_text_file(config_path)), config_path);
  } catch (const nlohmann::json::exception& e) {
    throw_error(ErrorKind::kCorrupt, "{}: invalid JSON ({})", config_path, e.what());
  }
  if (!file_exists(weights_path)) throw_error(ErrorKind::kNotFound, "{}: no such file", weights_path);
  const SafetensorsFile file(weights_path);
  static const std::regex key_pattern(
      R"(base_model\.model\.model\.layers\.(\d+)\.((?:self_attn|mlp)\.\w+)\.lora_([AB])\.weight)");
  std::map<std::pair<int64_t, std::string>, LoraModuleWeights> modules;
  for (const auto& [name, tensor] : file.tensors()) {
    std::smatch match;
    if (!std::regex_match(name, match, key_pattern)) {
      throw_error(ErrorKind::kUnsupported, "{}: tensor '{}' is not a LoRA A/B matrix of a decoder layer",
                  weights_path, name);
    }
    if (tensor.shape.size() != 2) throw_error(ErrorKind::kCorrupt, "{}: tensor '{}' is not 2-D", weights_path, name);
    const int module = find_linear_module(match[2].str());
    if (module < 0 || linear_module_names(module).path != match[2].str()) {
      throw_error(ErrorKind::kUnsupported, "{}: tensor '{}' adapts '{}', which is not a linear module of a decoder "
                  "layer", weights_path, name, match[2].str());
    }
    LoraModuleWeights& m = modules[{std::stoll(match[1]), match[2]}];
    m.layer = std::stoll(match[1]);
    m.module = match[2];
    if (match[3] == "A") {
      m.rank = tensor.shape[0];
      m.n_in = tensor.shape[1];
      m.A = tensor_to_f32(tensor);
    } else {
      m.n_out = tensor.shape[0];
      m.B = tensor_to_f32(tensor);
      if (tensor.shape[1] != adapter.config.r) {
        throw_error(ErrorKind::kCorrupt, "{}: '{}' has {} columns, r is {}", weights_path, name, tensor.shape[1],
                    adapter.config.r);
      }
    }
  }
  for (auto& [key, m] : modules) {
    if (m.A.empty() || m.B.empty()) {
      throw_error(ErrorKind::kCorrupt, "{}: layers.{}.{} has lora_{} without lora_{}", weights_path, m.layer,
                  m.module, m.A.empty() ? 'B' : 'A', m.A.empty() ? 'A' : 'B');
    }
    if (m.rank != adapter.config.r) {
      throw_error(ErrorKind::kCorrupt, "{}: layers.{}.{}.lora_A has {} rows, r is {}", weights_path, m.layer,
                  m.module, m.rank, adapter.config.r);
    }
    adapter.modules.push_back(std::move(m));
  }
  if (adapter.modules.empty()) throw_error(ErrorKind::kCorrupt, "{}: no LoRA tensors", weights_path);
  return adapter;
}

}  // namespace pagedllm
