#include "formats/checkpoint_layout.h"

#include <gtest/gtest.h>

namespace pagedllm {
namespace {

TEST(CheckpointLayout, ModulesAreFoundByPathAndLeaf) {
  for (int m = 0; m < kNumLinearModules; ++m) {
    EXPECT_EQ(find_linear_module(linear_module_names(m).path), m);
    EXPECT_EQ(find_linear_module(linear_module_names(m).leaf), m);
  }
  EXPECT_EQ(find_linear_module("mlp.down_proj"), kDownProj);
  EXPECT_EQ(find_linear_module("embed_tokens"), -1);
  EXPECT_EQ(find_linear_module("self_attn.gate_proj"), -1);
}

TEST(CheckpointLayout, TensorNamesFollowTransformers) {
  EXPECT_EQ(tensor_names::linear_weight(3, kQProj), "model.layers.3.self_attn.q_proj.weight");
  EXPECT_EQ(tensor_names::linear_bias(0, kDownProj), "model.layers.0.mlp.down_proj.bias");
  EXPECT_EQ(tensor_names::input_layernorm(2), "model.layers.2.input_layernorm.weight");
  EXPECT_EQ(tensor_names::post_attention_layernorm(2), "model.layers.2.post_attention_layernorm.weight");
  EXPECT_EQ(tensor_names::peft_lora(5, kOProj, 'A'), "base_model.model.model.layers.5.self_attn.o_proj.lora_A.weight");
  EXPECT_EQ(tensor_names::peft_lora(0, kUpProj, 'B'), "base_model.model.model.layers.0.mlp.up_proj.lora_B.weight");
}

TEST(CheckpointLayout, ShapesAndBiasesFollowTheConfig) {
  ModelConfig c;
  c.hidden_size = 64;
  c.intermediate_size = 172;
  c.num_attention_heads = 8;
  c.num_key_value_heads = 4;
  c.head_dim = 8;
  c.attention_bias = true;
  c.mlp_bias = true;
  const LinearModuleShape k = linear_module_shape(c, kKProj);
  EXPECT_EQ(k.n_out, 32);
  EXPECT_EQ(k.n_in, 64);
  EXPECT_TRUE(k.has_bias);
  EXPECT_FALSE(linear_module_shape(c, kOProj).has_bias);  // o_proj_bias is its own flag
  const LinearModuleShape down = linear_module_shape(c, kDownProj);
  EXPECT_EQ(down.n_out, 64);
  EXPECT_EQ(down.n_in, 172);
  EXPECT_TRUE(down.has_bias);
}

}  // namespace
}  // namespace pagedllm
