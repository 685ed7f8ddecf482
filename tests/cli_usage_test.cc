// What a new user types wrong, and what `pagedllm` answers: usage errors exit 2 with the nearest real name, a bad
// --model exits 1 saying what to pass instead, and --help / --version exit 0.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "run_command.h"

namespace pagedllm {
namespace {

using testing::run_command;

const std::string kBinary = PAGEDLLM_BINARY;
const std::string kModel = PAGEDLLM_SOURCE_DIR "/models/stories260K";

// stdout and stderr together, as a user sees them.
testing::CommandResult run_pagedllm(const std::string& args) { return run_command(kBinary + " " + args + " 2>&1"); }

TEST(CliUsage, VersionPrintsTheProjectVersion) {
  const testing::CommandResult r = run_pagedllm("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "pagedllm " PAGEDLLM_VERSION "\n");
}

TEST(CliUsage, NoSubcommandListsThem) {
  const testing::CommandResult r = run_pagedllm("");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out,
            "pagedllm: a subcommand is required: generate, chat, serve, tokenize, detokenize, chat-template, bench, "
            "inspect, quantize, perplexity, finetune, merge\n(`pagedllm --help` describes them)\n");
}

TEST(CliUsage, UnknownSubcommandIsNamedWithTheNearestOne) {
  const testing::CommandResult r = run_pagedllm("server --model x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "pagedllm: unknown subcommand 'server'; did you mean serve?") << r.out;
}

TEST(CliUsage, UnknownSubcommandWithoutANearOneListsThem) {
  const testing::CommandResult r = run_pagedllm("frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "pagedllm: unknown subcommand 'frobnicate'") << r.out;
  EXPECT_NE(r.out.find("the subcommands are: generate, chat, serve,"), std::string::npos) << r.out;
}

TEST(CliUsage, UnknownFlagSuggestsTheRealOne) {
  const testing::CommandResult r = run_pagedllm("generate --model " + kModel + " --prompt hi --max-new-tokens 8");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out,
            "pagedllm generate: unknown flag --max-new-tokens; did you mean --max-tokens?\n"
            "(`pagedllm generate --help` lists them)\n");
}

TEST(CliUsage, MistypedFlagSuggestsTheRealOneBeforeTheMissingRequiredFlag) {
  // --modle leaves --model unset; the typo is the cause, so it is what gets reported.
  const testing::CommandResult r = run_pagedllm("serve --modle " + kModel);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "pagedllm serve: unknown flag --modle; did you mean --model?");
}

TEST(CliUsage, UnknownFlagOfANestedSubcommandSearchesItsFlags) {
  const testing::CommandResult r = run_pagedllm("bench throughput --model " + kModel + " --num-prompt 2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')),
            "pagedllm bench throughput: unknown flag --num-prompt; did you mean --num-prompts?");
}

TEST(CliUsage, MissingRequiredFlagNamesIt) {
  const testing::CommandResult r = run_pagedllm("generate --prompt hi");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out,
            "pagedllm generate: --model is required\n(`pagedllm generate --help` lists the flags and their defaults)\n");
}

// Every engine command takes --kv-cache-dtype and names the allowed values for a bad one.
TEST(CliUsage, BadKvCacheDtypeListsTheAllowedValues) {
  for (const std::string command : {"generate --prompt hi", "serve", "perplexity --file x", "bench throughput"}) {
    const std::string name = command.substr(0, command.find(" --"));
    const testing::CommandResult r = run_pagedllm(command + " --model " + kModel + " --kv-cache-dtype fp16");
    EXPECT_EQ(r.exit_code, 2) << command;
    EXPECT_EQ(r.out, "pagedllm " + name +
                         ": --kv-cache-dtype: must be one of auto, float32, bfloat16, fp8, fp8_e4m3, fp8_e5m2, got "
                         "'fp16'\n(`pagedllm " + name + " --help` lists the flags and their defaults)\n")
        << command;
  }
}

TEST(CliUsage, ServeHelpShowsDefaults) {
  const testing::CommandResult r = run_pagedllm("serve --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* line : {"--port INT=8000", "--host TEXT=127.0.0.1", "--max-num-seqs INT=256", "--block-size INT=16",
                           "--quant-block-size INT=64", "--max-loras INT=4",
                           "--enable-prefix-caching,--no-enable-prefix-caching (default: on)",
                           "--enable-chunked-prefill,--no-enable-chunked-prefill (default: on)"}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
  }
}

TEST(CliUsage, MissingModelFolderSaysItDoesNotExistAndIsNotDownloaded) {
  const testing::CommandResult r = run_pagedllm("generate --model /nonexistent/model --prompt hi");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out,
            "pagedllm: error (not found): --model /nonexistent/model: the model folder does not exist. pagedllm reads "
            "a local Hugging Face model folder (config.json, tokenizer.json, *.safetensors) and does not download hub "
            "ids. The demo model is models/stories260K.\n");
}

TEST(CliUsage, HubIdIsToldToDownloadFirst) {
  const testing::CommandResult r = run_pagedllm("serve --model TinyLlama/TinyLlama-1.1B-Chat-v1.0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("'TinyLlama/TinyLlama-1.1B-Chat-v1.0' looks like a Hugging Face hub id, but pagedllm does not "
                       "download models"),
            std::string::npos)
      << r.out;
}

TEST(CliUsage, SafetensorsFileIsToldToPassItsFolder) {
  const testing::CommandResult r = run_pagedllm("generate --model " + kModel + "/model.safetensors --prompt hi");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "pagedllm: error (invalid argument): --model " + kModel +
                       "/model.safetensors: is a weights file, not a model folder; pass the folder that holds it (" +
                       kModel + ") with its config.json and tokenizer\n");
}

TEST(CliUsage, FolderWithoutConfigIsNamed) {
  const std::string folder = PAGEDLLM_SOURCE_DIR "/tests/fixtures";
  const testing::CommandResult r = run_pagedllm("finetune --model " + folder + " --data x --output /tmp/x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("--model " + folder + ": no config.json in this folder"), std::string::npos) << r.out;
}

TEST(CliUsage, MergeChecksItsModelFolderToo) {
  const testing::CommandResult r = run_pagedllm("merge --model /nonexistent/model --lora x --output /tmp/x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("--model /nonexistent/model: the model folder does not exist"), std::string::npos) << r.out;
}

TEST(CliUsage, MistypedChatTemplatePathIsNotTakenForATemplate) {
  const testing::CommandResult r = run_pagedllm("chat --model " + kModel + " --chat-template no/such/template.jinja");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("--chat-template no/such/template.jinja: no such file, and not an inline Jinja template"),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace pagedllm
