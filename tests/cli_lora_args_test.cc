// The adapter flags take one form everywhere: `--lora DIR` or `--lora NAME=DIR` on generate, serve, chat and merge;
// and `finetune --chat-template` trains on "messages" data when the tokenizer has no template of its own.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "run_command.h"

namespace pagedllm {
namespace {

using testing::quote;
using testing::run_command;

const std::string kBinary = PAGEDLLM_BINARY;
const std::string kModel = PAGEDLLM_SOURCE_DIR "/models/stories260K";
const std::string kTemplate = PAGEDLLM_SOURCE_DIR "/tests/fixtures/chat_templates/tinyllama-chat.jinja";

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string messages_data() {
  const std::string path = ::testing::TempDir() + "/pagedllm_lora_args_messages.jsonl";
  std::ofstream out(path);
  for (const char* name : {"Tom", "Lily", "Sam", "Max"}) {
    out << R"({"messages": [{"role": "user", "content": "What is the dog called?"}, )"
        << R"({"role": "assistant", "content": "The dog is called )" << name << R"(."}]})" << "\n";
  }
  return path;
}

std::string finetune(const std::string& output, const std::string& flags) {
  std::filesystem::remove_all(output);
  return kBinary + " finetune --model " + kModel + " --data " + messages_data() + " --output " + output +
         " --lora-r 4 --learning-rate 1e-2 --max-steps 3 --batch-size 4 --quiet " + flags + " 2>&1";
}

// One adapter for the tests below, trained once.
const std::string& adapter_dir() {
  static const std::string dir = [] {
    const std::string d = ::testing::TempDir() + "/pagedllm_lora_args_adapter";
    const testing::CommandResult r = run_command(finetune(d, "--chat-template " + kTemplate));
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return d;
  }();
  return dir;
}

TEST(CliLoraArgs, FinetuneOnMessagesWithoutTemplatePointsToTheFlag) {
  const testing::CommandResult r = run_command(finetune(::testing::TempDir() + "/pagedllm_lora_args_none", ""));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("\"messages\" needs a chat template: the tokenizer has none, so pass --chat-template FILE"),
            std::string::npos)
      << r.out;
}

TEST(CliLoraArgs, FinetuneWithChatTemplateWritesAnAdapter) {
  EXPECT_TRUE(std::filesystem::exists(adapter_dir() + "/adapter_model.safetensors"));
}

TEST(CliLoraArgs, GenerateTakesDirOrNameEqualsDir) {
  const std::string generate = kBinary + " generate --model " + kModel +
                               " --temperature 0 --max-tokens 16 --json 2>/dev/null --prompt " +
                               quote("<|user|>\nWhat is the dog called?</s>\n<|assistant|>");
  const testing::CommandResult bare = run_command(generate + " --lora " + adapter_dir());
  const testing::CommandResult named = run_command(generate + " --lora dog=" + adapter_dir());
  const testing::CommandResult base = run_command(generate);
  ASSERT_EQ(bare.exit_code, 0);
  ASSERT_EQ(named.exit_code, 0);
  ASSERT_EQ(base.exit_code, 0);
  EXPECT_EQ(bare.out, named.out);
  EXPECT_NE(bare.out, base.out) << "the adapter must be applied";
}

TEST(CliLoraArgs, MergeTakesNameEqualsDirOrDir) {
  const std::string bare = ::testing::TempDir() + "/pagedllm_lora_args_merged_bare";
  const std::string named = ::testing::TempDir() + "/pagedllm_lora_args_merged_named";
  std::filesystem::remove_all(bare);
  std::filesystem::remove_all(named);
  const std::string merge = kBinary + " merge --model " + kModel + " --lora ";
  ASSERT_EQ(run_command(merge + adapter_dir() + " --output " + bare + " >/dev/null").exit_code, 0);
  ASSERT_EQ(run_command(merge + "dog=" + adapter_dir() + " --output " + named + " >/dev/null").exit_code, 0);
  EXPECT_EQ(read_bytes(bare + "/model.safetensors"), read_bytes(named + "/model.safetensors"));
  EXPECT_GT(read_bytes(bare + "/model.safetensors").size(), 0u);
}

TEST(CliLoraArgs, EmptyNameIsAClearError) {
  const testing::CommandResult r =
      run_command(kBinary + " generate --model " + kModel + " --prompt hi --lora =" + adapter_dir() + " 2>&1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("--lora expects NAME=DIR or DIR, got '=" + adapter_dir() + "'"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace pagedllm
