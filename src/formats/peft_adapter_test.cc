#include "formats/peft_adapter.h"

#include <gtest/gtest.h>

#include "formats/safetensors.h"
#include "util/atomic_file.h"
#include "formats/safetensors_writer.h"
#include "util/error.h"
#include "util/half.h"
#include "util/mapped_file.h"

namespace pagedllm {
namespace {

PeftAdapter small_adapter() {
  PeftAdapter adapter;
  adapter.config.r = 2;
  adapter.config.lora_alpha = 16;
  adapter.config.lora_dropout = 0.1;
  adapter.config.target_modules = {"v_proj", "q_proj"};
  adapter.config.base_model_name_or_path = "stories260K";
  adapter.modules.push_back({0, "self_attn.q_proj", 2, 3, 4, {1, 2, 3, 4, 5, 6}, {1, 0, 0, 1, 1, 1, 0, 2}});
  adapter.modules.push_back({1, "mlp.down_proj", 2, 4, 3, {1, 2, 3, 4, 5, 6, 7, 8}, {9, 8, 7, 6, 5, 4}});
  return adapter;
}

std::string fresh_dir(const std::string& name) { return ::testing::TempDir() + "/" + name; }

TEST(PeftAdapterTest, KeysFollowPeft) {
  EXPECT_EQ(peft_lora_key(3, "self_attn.q_proj", 'A'), "base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight");
  EXPECT_EQ(peft_lora_key(0, "mlp.down_proj", 'B'), "base_model.model.model.layers.0.mlp.down_proj.lora_B.weight");
}

TEST(PeftAdapterTest, ConfigHasPeftKeys) {
  const auto json = adapter_config_json(small_adapter().config);
  EXPECT_EQ(json["peft_type"], "LORA");
  EXPECT_EQ(json["task_type"], "CAUSAL_LM");
  EXPECT_EQ(json["bias"], "none");
  EXPECT_EQ(json["r"], 2);
  EXPECT_EQ(json["lora_alpha"], 16.0);
  EXPECT_EQ(json["target_modules"], (nlohmann::json{"q_proj", "v_proj"}));
  EXPECT_EQ(json["base_model_name_or_path"], "stories260K");
  for (const char* key : {"fan_in_fan_out", "inference_mode", "init_lora_weights", "modules_to_save", "rank_pattern",
                          "alpha_pattern", "use_dora", "use_rslora", "layers_to_transform", "revision"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
}

TEST(PeftAdapterTest, SaveThenLoadRoundTripsExactly) {
  const std::string dir = fresh_dir("adapter_roundtrip");
  const PeftAdapter saved = small_adapter();
  save_peft_adapter(dir, saved);
  const SafetensorsFile file(dir + "/adapter_model.safetensors");
  EXPECT_EQ(file.find("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")->shape,
            (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(file.find("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight")->shape,
            (std::vector<int64_t>{4, 2}));
  const PeftAdapter loaded = load_peft_adapter(dir);
  EXPECT_EQ(loaded.config.r, 2);
  EXPECT_DOUBLE_EQ(loaded.config.scale(), 8.0);
  ASSERT_EQ(loaded.modules.size(), 2u);
  // Sorted by (layer, module): layer 0 first.
  EXPECT_EQ(loaded.modules[0].module, "self_attn.q_proj");
  EXPECT_EQ(loaded.modules[0].A, saved.modules[0].A);
  EXPECT_EQ(loaded.modules[0].B, saved.modules[0].B);
  EXPECT_EQ(loaded.modules[1].n_in, 4);
  EXPECT_EQ(loaded.modules[1].n_out, 3);
  EXPECT_EQ(loaded.modules[1].B, saved.modules[1].B);
}

TEST(PeftAdapterTest, RefusesToWriteAnAdapterWithoutTensors) {
  PeftAdapter empty = small_adapter();
  empty.modules.clear();
  const std::string dir = fresh_dir("adapter_empty");
  EXPECT_THROW(save_peft_adapter(dir, empty), Error);
  EXPECT_FALSE(file_exists(dir + "/adapter_config.json"));
}

TEST(PeftAdapterTest, LoadsBf16AdapterFromElsewhere) {
  const std::string dir = fresh_dir("adapter_bf16");
  save_peft_adapter(dir, small_adapter());  // creates the folder and a config
  const std::vector<uint16_t> a = {f32_to_bf16(0.5f), f32_to_bf16(-1.0f)};
  const std::vector<uint16_t> b = {f32_to_bf16(2.0f), f32_to_bf16(3.0f), f32_to_bf16(4.0f), f32_to_bf16(5.0f)};
  LoraConfig config;
  config.r = 1;
  config.lora_alpha = 2;
  write_safetensors(dir + "/adapter_model.safetensors",
                    {safetensors_entry(peft_lora_key(5, "self_attn.o_proj", 'A'), "BF16", {1, 2}, a.data()),
                     safetensors_entry(peft_lora_key(5, "self_attn.o_proj", 'B'), "BF16", {4, 1}, b.data())},
                    {{"format", "pt"}});
  write_file_atomically(dir + "/adapter_config.json", adapter_config_json(config).dump());
  const PeftAdapter loaded = load_peft_adapter(dir);
  ASSERT_EQ(loaded.modules.size(), 1u);
  EXPECT_EQ(loaded.modules[0].layer, 5);
  EXPECT_EQ(loaded.modules[0].A, (std::vector<float>{0.5f, -1.0f}));
  EXPECT_EQ(loaded.modules[0].B, (std::vector<float>{2, 3, 4, 5}));
}

TEST(PeftAdapterTest, RejectsUnsupportedConfigs) {
  auto json = adapter_config_json(small_adapter().config);
  EXPECT_NO_THROW(parse_adapter_config(json, "c.json"));
  auto dora = json;
  dora["use_dora"] = true;
  EXPECT_THROW(parse_adapter_config(dora, "c.json"), Error);
  auto prefix = json;
  prefix["peft_type"] = "PREFIX_TUNING";
  EXPECT_THROW(parse_adapter_config(prefix, "c.json"), Error);
  auto no_r = json;
  no_r.erase("r");
  EXPECT_THROW(parse_adapter_config(no_r, "c.json"), Error);
}

TEST(PeftAdapterTest, RejectsUnpairedOrForeignTensors) {
  const std::string dir = fresh_dir("adapter_unpaired");
  save_peft_adapter(dir, small_adapter());
  const float a[6] = {0};
  write_safetensors(dir + "/adapter_model.safetensors",
                    {safetensors_entry(peft_lora_key(0, "self_attn.q_proj", 'A'), "F32", {2, 3}, a)}, {});
  EXPECT_THROW(load_peft_adapter(dir), Error);
  write_safetensors(dir + "/adapter_model.safetensors",
                    {safetensors_entry("base_model.model.lm_head.weight", "F32", {2, 3}, a)}, {});
  EXPECT_THROW(load_peft_adapter(dir), Error);
}

}  // namespace
}  // namespace pagedllm
