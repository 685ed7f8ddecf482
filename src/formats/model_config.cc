#include "formats/model_config.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "util/error.h"
#include "util/json_limits.h"
#include "util/mapped_file.h"

namespace pagedllm {
namespace {

using nlohmann::json;

template <typename T>
T get_or(const json& j, const char* key, T fallback, const std::string& source) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  try {
    return j[key].get<T>();
  } catch (const json::exception&) {
    throw_error(ErrorKind::kCorrupt, "{}: key '{}' has the wrong type", source, key);
  }
}

int require_positive(const json& j, const char* key, const std::string& source) {
  if (!j.contains(key) || !j[key].is_number_integer()) throw_error(ErrorKind::kCorrupt, "{}: missing integer key '{}'", source, key);
  int64_t v = j[key].get<int64_t>();
  if (v <= 0 || v > (1 << 24)) throw_error(ErrorKind::kCorrupt, "{}: key '{}' = {} is out of range", source, key, v);
  return static_cast<int>(v);
}

// A float field that enters arithmetic: finite and above `min` (or at least `min` when !exclusive).
double require_number_above(const json& j, const char* key, double fallback, double min, bool exclusive,
                            const std::string& source) {
  double v = get_or<double>(j, key, fallback, source);
  bool is_in_range = std::isfinite(v) && (exclusive ? v > min : v >= min);
  if (!is_in_range) {
    throw_error(ErrorKind::kCorrupt, "{}: key '{}' = {} must be a finite number {} {}", source, key, v,
                exclusive ? ">" : ">=", min);
  }
  return v;
}

int optional_positive(const json& j, const char* key, int fallback, const std::string& source) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  return require_positive(j, key, source);
}

RopeScaling parse_rope_scaling(const json& j, const std::string& source) {
  RopeScaling s;
  if (!j.is_object()) return s;
  std::string type = get_or<std::string>(j, "rope_type", get_or<std::string>(j, "type", "default", source), source);
  s.rope_type = type;
  if (type != "default" && type != "linear" && type != "llama3") {
    throw_error(ErrorKind::kUnsupported, "{}: rope_scaling type '{}' is not supported (default, linear, llama3)", source, type);
  }
  const std::string where = source + " rope_scaling";
  s.factor = require_number_above(j, "factor", 1.0, 0.0, true, where);
  s.low_freq_factor = require_number_above(j, "low_freq_factor", 1.0, 0.0, true, where);
  s.high_freq_factor = require_number_above(j, "high_freq_factor", 4.0, 0.0, true, where);
  s.original_max_position_embeddings = optional_positive(j, "original_max_position_embeddings", 8192, where);
  // llama3 divides by (high_freq_factor - low_freq_factor).
  if (type == "llama3" && !(s.high_freq_factor > s.low_freq_factor)) {
    throw_error(ErrorKind::kCorrupt, "{}: high_freq_factor ({}) must be greater than low_freq_factor ({})", where,
                s.high_freq_factor, s.low_freq_factor);
  }
  return s;
}

}  // namespace

ModelConfig parse_model_config(const std::string& json_text, const std::string& source) {
  if (std::optional<std::string> problem = find_json_text_problem(json_text)) {
    throw_error(ErrorKind::kCorrupt, "{}: not acceptable JSON: {}", source, *problem);
  }
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {
    throw_error(ErrorKind::kCorrupt, "{}: not valid JSON: {}", source, e.what());
  }
  if (!j.is_object()) throw_error(ErrorKind::kCorrupt, "{}: not a JSON object", source);
  ModelConfig c;
  if (j.contains("architectures") && j["architectures"].is_array() && !j["architectures"].empty() && j["architectures"][0].is_string()) {
    c.architecture = j["architectures"][0].get<std::string>();
  }
  c.model_type = get_or<std::string>(j, "model_type", "", source);
  static const char* kSupported[] = {"LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM"};
  bool supported = false;
  for (const char* a : kSupported) supported |= c.architecture == a;
  if (!supported) {
    throw_error(ErrorKind::kUnsupported, "{}: architecture '{}' is not supported (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM)", source, c.architecture);
  }
  c.vocab_size = require_positive(j, "vocab_size", source);
  c.hidden_size = require_positive(j, "hidden_size", source);
  c.intermediate_size = require_positive(j, "intermediate_size", source);
  c.num_hidden_layers = require_positive(j, "num_hidden_layers", source);
  c.num_attention_heads = require_positive(j, "num_attention_heads", source);
  c.num_key_value_heads = j.contains("num_key_value_heads") && !j["num_key_value_heads"].is_null()
                              ? require_positive(j, "num_key_value_heads", source)
                              : c.num_attention_heads;
  c.head_dim = j.contains("head_dim") && !j["head_dim"].is_null() ? require_positive(j, "head_dim", source)
                                                                   : c.hidden_size / c.num_attention_heads;
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    throw_error(ErrorKind::kCorrupt, "{}: num_attention_heads {} is not a multiple of num_key_value_heads {}", source, c.num_attention_heads, c.num_key_value_heads);
  }
  if (c.head_dim <= 0) {
    throw_error(ErrorKind::kCorrupt, "{}: hidden_size {} is smaller than num_attention_heads {}", source, c.hidden_size, c.num_attention_heads);
  }
  if (c.head_dim % 2 != 0) throw_error(ErrorKind::kCorrupt, "{}: head_dim {} must be even for rotary embeddings", source, c.head_dim);
  c.max_position_embeddings = optional_positive(j, "max_position_embeddings", 2048, source);
  c.rms_norm_eps = require_number_above(j, "rms_norm_eps", 1e-6, 0.0, true, source);
  // theta^(2i/d) with theta <= 1 gives no rotation or growing frequencies; real models use 1e4 .. 1e6.
  c.rope_theta = require_number_above(j, "rope_theta", 10000.0, 1.0, true, source);
  if (j.contains("rope_scaling")) c.rope_scaling = parse_rope_scaling(j["rope_scaling"], source);
  c.tie_word_embeddings = get_or<bool>(j, "tie_word_embeddings", false, source);
  const bool llama = c.architecture == "LlamaForCausalLM";
  c.o_proj_bias = llama && get_or<bool>(j, "attention_bias", false, source);
  c.attention_bias = c.architecture == "Qwen2ForCausalLM" || c.o_proj_bias;
  c.mlp_bias = llama && get_or<bool>(j, "mlp_bias", false, source);
  if (j.contains("bos_token_id") && j["bos_token_id"].is_number_integer()) c.bos_token_id = j["bos_token_id"].get<int>();
  if (j.contains("eos_token_id")) {
    const json& e = j["eos_token_id"];
    if (e.is_number_integer()) c.eos_token_ids.push_back(e.get<int>());
    if (e.is_array()) {
      for (auto& v : e) {
        if (v.is_number_integer()) c.eos_token_ids.push_back(v.get<int>());
      }
    }
  }
  c.torch_dtype = get_or<std::string>(j, "torch_dtype", get_or<std::string>(j, "dtype", "float32", source), source);
  return c;
}

ModelConfig load_model_config(const std::string& model_dir) {
  const std::string path = model_dir + "/config.json";
  return parse_model_config(read_text_file(path), path);
}

std::vector<float> ModelConfig::rope_inv_freq() const {
  const int half = head_dim / 2;
  std::vector<float> inv(half);
  const double pi = 3.14159265358979323846;
  for (int i = 0; i < half; ++i) {
    double f = 1.0 / std::pow(rope_theta, (2.0 * i) / head_dim);
    if (rope_scaling.rope_type == "linear") {
      f /= rope_scaling.factor;
    } else if (rope_scaling.rope_type == "llama3") {
      const RopeScaling& s = rope_scaling;
      double low_wavelen = s.original_max_position_embeddings / s.low_freq_factor;
      double high_wavelen = s.original_max_position_embeddings / s.high_freq_factor;
      double wavelen = 2 * pi / f;
      if (wavelen > low_wavelen) {
        f /= s.factor;
      } else if (wavelen >= high_wavelen) {
        double smooth = (s.original_max_position_embeddings / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        f = (1 - smooth) * f / s.factor + smooth * f;
      }
    }
    inv[i] = static_cast<float>(f);
  }
  return inv;
}

int64_t ModelConfig::num_parameters() const {
  const int64_t h = hidden_size, q = int64_t(num_attention_heads) * head_dim, kv = int64_t(num_key_value_heads) * head_dim;
  int64_t per_layer = h * q + 2 * h * kv + q * h + 3 * h * intermediate_size + 2 * h;
  if (attention_bias) per_layer += q + 2 * kv;
  if (o_proj_bias) per_layer += h;
  if (mlp_bias) per_layer += 2 * int64_t(intermediate_size) + h;
  int64_t total = per_layer * num_hidden_layers + int64_t(vocab_size) * h + h;
  if (!tie_word_embeddings) total += int64_t(vocab_size) * h;
  return total;
}

}  // namespace pagedllm
