#include "engine/adapter_base.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "util/error.h"

namespace pagedllm {
namespace {

// An adapter folder with only its config: match_base_to_adapters never reads the weights.
std::string adapter_dir(const std::string& name, const std::string& base_fields) {
  const auto dir = std::filesystem::temp_directory_path() / ("pagedllm_adapter_base_" + name);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "adapter_config.json")
      << R"({"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ["q_proj"])" << base_fields << "}";
  return dir.string();
}

TEST(AdapterBase, UnnamedQuantizationFollowsTheAdapter) {
  EngineArgs args;
  args.double_quant = false;
  args.loras = {{"qlora", adapter_dir("nf4dq",
                                      R"(, "pagedllm_base_quantization": "nf4", "pagedllm_base_double_quant": true)")}};
  const std::vector<std::string> notes = match_base_to_adapters(args);
  EXPECT_EQ(args.quantization, "nf4");
  EXPECT_TRUE(args.double_quant);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("serving the base in nf4 with double quantization"), std::string::npos) << notes[0];
}

TEST(AdapterBase, ExplicitQuantizationWinsWithAWarning) {
  EngineArgs args;
  args.quantization = "none";
  args.loras = {{"qlora", adapter_dir("nf4", R"(, "pagedllm_base_quantization": "nf4")")}};
  const std::vector<std::string> notes = match_base_to_adapters(args);
  EXPECT_EQ(args.quantization, "none");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("trained over a nf4 base but the base is served as none"), std::string::npos) << notes[0];
}

TEST(AdapterBase, AdaptersMadeElsewhereChangeNothing) {
  EngineArgs args;
  args.loras = {{"peft", adapter_dir("peft", "")}, {"plain", adapter_dir("none", R"(, "pagedllm_base_quantization": "none")")}};
  EXPECT_TRUE(match_base_to_adapters(args).empty());
  EXPECT_EQ(args.quantization, "");
}

TEST(AdapterBase, DisagreeingAdaptersKeepTheCheckpointAndWarn) {
  EngineArgs args;
  args.loras = {{"a", adapter_dir("nf4_a", R"(, "pagedllm_base_quantization": "nf4")")},
                {"b", adapter_dir("fp4_b", R"(, "pagedllm_base_quantization": "fp4")")}};
  const std::vector<std::string> notes = match_base_to_adapters(args);
  EXPECT_EQ(args.quantization, "");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("disagree"), std::string::npos) << notes[0];
}

TEST(AdapterBase, NonFiniteAlphaIsRefusedByTheOneReader) {
  EngineArgs args;
  args.loras = {{"bad", adapter_dir("nan_alpha", "")}};
  std::ofstream(args.loras[0].second + "/adapter_config.json")
      << R"({"peft_type": "LORA", "r": 8, "lora_alpha": "nan"})";
  try {
    match_base_to_adapters(args);
    FAIL() << "a string lora_alpha was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lora_alpha"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pagedllm
