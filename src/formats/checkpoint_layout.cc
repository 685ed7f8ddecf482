#include "formats/checkpoint_layout.h"

#include <fmt/format.h>

#include "util/error.h"

namespace pagedllm {
namespace {

constexpr LinearModuleNames kModules[kNumLinearModules] = {
    {"q_proj", "self_attn.q_proj"}, {"k_proj", "self_attn.k_proj"},   {"v_proj", "self_attn.v_proj"},
    {"o_proj", "self_attn.o_proj"}, {"gate_proj", "mlp.gate_proj"},   {"up_proj", "mlp.up_proj"},
    {"down_proj", "mlp.down_proj"}};

}  // namespace

const LinearModuleNames& linear_module_names(int module) {
  PAGEDLLM_CHECK(module >= 0 && module < kNumLinearModules);
  return kModules[module];
}

int find_linear_module(std::string_view name) {
  for (int m = 0; m < kNumLinearModules; ++m) {
    if (name == kModules[m].leaf || name == kModules[m].path) return m;
  }
  return -1;
}

LinearModuleShape linear_module_shape(const ModelConfig& c, int module) {
  const int64_t h = c.hidden_size, q = int64_t(c.num_attention_heads) * c.head_dim,
                kv = int64_t(c.num_key_value_heads) * c.head_dim, ff = c.intermediate_size;
  switch (module) {
    case kQProj: return {q, h, c.attention_bias};
    case kKProj: return {kv, h, c.attention_bias};
    case kVProj: return {kv, h, c.attention_bias};
    case kOProj: return {h, q, c.o_proj_bias};
    case kGateProj: return {ff, h, c.mlp_bias};
    case kUpProj: return {ff, h, c.mlp_bias};
    case kDownProj: return {h, ff, c.mlp_bias};
  }
  PAGEDLLM_CHECK_MSG(false, "linear module {} out of range", module);
  return {};
}

namespace tensor_names {

std::string input_layernorm(int64_t layer) { return fmt::format("model.layers.{}.input_layernorm.weight", layer); }

std::string post_attention_layernorm(int64_t layer) {
  return fmt::format("model.layers.{}.post_attention_layernorm.weight", layer);
}

std::string linear_weight(int64_t layer, int module) {
  return fmt::format("model.layers.{}.{}.weight", layer, linear_module_names(module).path);
}

std::string linear_bias(int64_t layer, int module) {
  return fmt::format("model.layers.{}.{}.bias", layer, linear_module_names(module).path);
}

std::string peft_lora(int64_t layer, int module, char which) {
  return fmt::format("base_model.model.model.layers.{}.{}.lora_{}.weight", layer, linear_module_names(module).path,
                     which);
}

}  // namespace tensor_names
}  // namespace pagedllm
