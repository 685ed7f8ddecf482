// `pagedllm generate` with structured outputs: a JSON Schema's properties come out in the schema's order, from
// --json-schema FILE and from a --prompts-file line's guided_json.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "golden_data.h"
#include "run_command.h"

namespace pagedllm {
namespace {

using testing::run_command;

// zeta, alpha, mid: neither alphabetical nor reverse-alphabetical.
const char* kSchema =
    R"({"type":"object","properties":{"zeta":{"type":"integer"},"alpha":{"enum":["a","b"]},"mid":{"type":"boolean"}},)"
    R"("required":["zeta","alpha","mid"],"additionalProperties":false})";

std::vector<std::string> keys_of_outputs(const std::string& out) {
  std::vector<std::string> keys;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    const std::string text = nlohmann::json::parse(line)["outputs"][0]["text"].get<std::string>();
    const nlohmann::ordered_json value = nlohmann::ordered_json::parse(text);
    for (const auto& item : value.items()) keys.push_back(item.key());
  }
  return keys;
}

TEST(CliStructured, PropertiesComeInTheSchemasOrder) {
  const std::string schema_file = ::testing::TempDir() + "/pagedllm_cli_structured_schema.json";
  std::ofstream(schema_file) << kSchema;
  const std::string prompts_file = ::testing::TempDir() + "/pagedllm_cli_structured_prompts.jsonl";
  std::ofstream(prompts_file) << R"({"prompt":"Once upon a time","guided_json":)" << kSchema << "}\n";
  const std::string common = std::string(PAGEDLLM_BINARY) + " generate --model " + testing::kStoriesDir +
                             " --temperature 1 --seed 3 --max-tokens 60 --json";
  testing::CommandResult from_flag = run_command(common + " --prompt Once --json-schema " + schema_file);
  ASSERT_EQ(from_flag.exit_code, 0);
  EXPECT_EQ(keys_of_outputs(from_flag.out), (std::vector<std::string>{"zeta", "alpha", "mid"}));
  testing::CommandResult from_file = run_command(common + " --prompts-file " + prompts_file);
  ASSERT_EQ(from_file.exit_code, 0);
  EXPECT_EQ(keys_of_outputs(from_file.out), (std::vector<std::string>{"zeta", "alpha", "mid"}));
}

}  // namespace
}  // namespace pagedllm
