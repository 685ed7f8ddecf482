#include "formats/model_config.h"

#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace pagedllm {
namespace {

TEST(ModelConfig, ReadsStories260K) {
  ModelConfig c = load_model_config(PAGEDLLM_SOURCE_DIR "/models/stories260K");
  EXPECT_EQ(c.architecture, "LlamaForCausalLM");
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.eos_token_ids, std::vector<int>{2});
  std::vector<float> inv = c.rope_inv_freq();
  ASSERT_EQ(inv.size(), 4u);
  EXPECT_FLOAT_EQ(inv[1], 1.0f / std::pow(10000.0f, 2.0f / 8));
}

TEST(ModelConfig, TinyLlamaParameterCount) {
  ModelConfig c = load_model_config(PAGEDLLM_SOURCE_DIR "/models/tinyllama-1.1b-dummy");
  EXPECT_EQ(c.num_parameters(), 1100048384);  // the published TinyLlama-1.1B parameter count
}

// Llama-3.2 rope scaling (factor 32, low 1, high 4, original 8192): the highest frequency is kept, the lowest
// divided by the factor, as in transformers' _compute_llama3_parameters.
TEST(ModelConfig, Llama3RopeScaling) {
  ModelConfig c = parse_model_config(R"({"architectures":["LlamaForCausalLM"],"vocab_size":10,"hidden_size":64,
    "intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":1,"rope_theta":500000.0,
    "rope_scaling":{"rope_type":"llama3","factor":32.0,"low_freq_factor":1.0,"high_freq_factor":4.0,
    "original_max_position_embeddings":8192}})", "test");
  std::vector<float> inv = c.rope_inv_freq();
  ASSERT_EQ(inv.size(), 32u);
  EXPECT_FLOAT_EQ(inv[0], 1.0f);
  const double last = 1.0 / std::pow(500000.0, 62.0 / 64);
  EXPECT_FLOAT_EQ(inv[31], static_cast<float>(last / 32));
}

TEST(ModelConfig, UnknownArchitectureNamesIt) {
  try {
    parse_model_config(R"({"architectures":["GPTBigCodeForCausalLM"]})", "cfg.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("GPTBigCodeForCausalLM"), std::string::npos);
  }
}

TEST(ModelConfig, MissingKeyIsNamed) {
  try {
    parse_model_config(R"({"architectures":["LlamaForCausalLM"],"vocab_size":10})", "cfg.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("hidden_size"), std::string::npos) << e.what();
  }
}

TEST(ModelConfig, Qwen2AlwaysHasQkvBias) {
  ModelConfig c = parse_model_config(R"({"architectures":["Qwen2ForCausalLM"],"vocab_size":10,"hidden_size":8,
    "intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1})", "test");
  EXPECT_TRUE(c.attention_bias);
  EXPECT_FALSE(c.o_proj_bias);
  EXPECT_FALSE(c.mlp_bias);
  EXPECT_EQ(c.head_dim, 4);
}

// transformers' LlamaAttention gives q, k, v and o a bias with attention_bias; LlamaMLP gives gate, up and down one
// with mlp_bias. Mistral's layers have no bias whatever the config says.
TEST(ModelConfig, BiasFlagsFollowTheFamily) {
  const std::string dims = R"("vocab_size":10,"hidden_size":8,"intermediate_size":12,"num_hidden_layers":1,
    "num_attention_heads":2,"num_key_value_heads":1,"attention_bias":true,"mlp_bias":true})";
  ModelConfig llama = parse_model_config(R"({"architectures":["LlamaForCausalLM"],)" + dims, "llama");
  EXPECT_TRUE(llama.attention_bias);
  EXPECT_TRUE(llama.o_proj_bias);
  EXPECT_TRUE(llama.mlp_bias);
  ModelConfig mistral = parse_model_config(R"({"architectures":["MistralForCausalLM"],)" + dims, "mistral");
  EXPECT_FALSE(mistral.attention_bias || mistral.o_proj_bias || mistral.mlp_bias);

  // Biases count as parameters: q (8) + k, v (4 each) + o (8) + gate, up (12 each) + down (8).
  ModelConfig plain = llama;
  plain.attention_bias = plain.o_proj_bias = plain.mlp_bias = false;
  EXPECT_EQ(llama.num_parameters() - plain.num_parameters(), 8 + 4 + 4 + 8 + 12 + 12 + 8);
}

// A small valid config with one key replaced (or added).
std::string config_with(const std::string& key, const std::string& value) {
  nlohmann::json j = nlohmann::json::parse(R"({"architectures":["LlamaForCausalLM"],"vocab_size":10,
    "hidden_size":64,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4})");
  j[key] = nlohmann::json::parse(value);
  return j.dump();
}

std::string error_of(const std::string& json_text) {
  try {
    parse_model_config(json_text, "m/config.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
    return e.what();
  }
  return "no error";
}

TEST(ModelConfig, FieldsThatEnterArithmeticAreValidatedNamingFileAndKey) {
  EXPECT_EQ(error_of(config_with("rms_norm_eps", "-1")),
            "m/config.json: key 'rms_norm_eps' = -1 must be a finite number > 0");
  EXPECT_EQ(error_of(config_with("rms_norm_eps", "0")),
            "m/config.json: key 'rms_norm_eps' = 0 must be a finite number > 0");
  EXPECT_EQ(error_of(config_with("rope_theta", "0")), "m/config.json: key 'rope_theta' = 0 must be a finite number > 1");
  EXPECT_EQ(error_of(config_with("rope_theta", "1")), "m/config.json: key 'rope_theta' = 1 must be a finite number > 1");
  EXPECT_EQ(error_of(config_with("max_position_embeddings", "0")),
            "m/config.json: key 'max_position_embeddings' = 0 is out of range");
  EXPECT_EQ(error_of(config_with("max_position_embeddings", "-5")),
            "m/config.json: key 'max_position_embeddings' = -5 is out of range");
  EXPECT_EQ(error_of(config_with("max_position_embeddings", "\"x\"")),
            "m/config.json: missing integer key 'max_position_embeddings'");
  EXPECT_EQ(error_of(config_with("hidden_size", "2")),
            "m/config.json: hidden_size 2 is smaller than num_attention_heads 4");
  EXPECT_EQ(error_of(config_with("rope_scaling", R"({"rope_type":"linear","factor":0})")),
            "m/config.json rope_scaling: key 'factor' = 0 must be a finite number > 0");
  EXPECT_EQ(error_of(config_with("rope_scaling", R"({"rope_type":"llama3","factor":8,"low_freq_factor":4,
            "high_freq_factor":4})")),
            "m/config.json rope_scaling: high_freq_factor (4) must be greater than low_freq_factor (4)");
  EXPECT_EQ(error_of(config_with("rope_scaling", R"({"rope_type":"llama3","factor":8,
            "original_max_position_embeddings":0})")),
            "m/config.json rope_scaling: key 'original_max_position_embeddings' = 0 is out of range");
}

TEST(ModelConfig, DeepNestingIsRefusedBeforeParsing) {
  std::string deep = config_with("x", "1");
  deep.insert(deep.size() - 1, ",\"deep\":" + std::string(100, '[') + std::string(100, ']'));
  EXPECT_EQ(error_of(deep), "m/config.json: not acceptable JSON: nesting deeper than 64 levels at byte " +
                                std::to_string(deep.find("[[") + 63));
}

}  // namespace
}  // namespace pagedllm
