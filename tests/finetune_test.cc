// `pagedllm finetune` / `merge` / `generate --lora` as a user runs them on stories260K with the repository's
// instruction set: a run killed with SIGKILL and resumed ends with the uninterrupted run's adapter, bit for bit, and
// the adapter, served with --lora, answers the held-in prompts as taught.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "run_command.h"
#include "train/instruction_data.h"

namespace pagedllm {
namespace {

using testing::quote;
using testing::run_command;

const std::string kBinary = PAGEDLLM_BINARY;
const std::string kModel = std::string(PAGEDLLM_SOURCE_DIR) + "/models/stories260K";
const std::string kData = std::string(PAGEDLLM_SOURCE_DIR) + "/tests/data/stories_instructions.jsonl";

std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/pagedllm_cli_finetune_" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Rank-8 QLoRA at a high learning rate decaying linearly (see src/train/trainer_test.cc).
std::string finetune_command(const std::string& output, int max_steps) {
  return kBinary + " finetune --model " + kModel + " --data " + kData + " --output " + output +
         " --lora-r 8 --learning-rate 2e-3 --lr-scheduler linear --batch-size 4 --max-seq-len 128 --seed 7 --quiet"
         " --max-steps " + std::to_string(max_steps);
}

// How a command started by run_until_file_then_kill ended.
struct KilledRun {
  bool file_appeared = false;  // `file` was written into the folder while the command ran
  int wait_status = 0;         // waitpid's status
};

// Runs `command` (through /bin/sh, which execs it, so the pid is the command's own) and SIGKILLs it the moment a file
// named `file` is renamed into or closed in `folder` (which must exist): an inotify event, not a polled path. The
// command's stdout is a pipe read here, whose end of file says the command exited, so a run that dies before
// writing the file ends the wait at once instead of leaving it to a timeout.
KilledRun run_until_file_then_kill(const std::string& command, const std::string& folder, const std::string& file) {
  KilledRun result;
  const int watch = ::inotify_init1(IN_CLOEXEC);
  EXPECT_GE(watch, 0) << std::strerror(errno);
  EXPECT_GE(::inotify_add_watch(watch, folder.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE), 0) << folder;
  int out[2];
  EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  const std::string script = "exec " + command;
  const char* argv[] = {"/bin/sh", "-c", script.c_str(), nullptr};
  pid_t pid = -1;
  EXPECT_EQ(::posix_spawn(&pid, "/bin/sh", &actions, nullptr, const_cast<char**>(argv), environ), 0);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  bool has_exited = false;
  while (!result.file_appeared && !has_exited) {
    pollfd fds[2] = {{watch, POLLIN, 0}, {out[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      ADD_FAILURE() << "poll: " << std::strerror(errno);
      break;
    }
    if (fds[0].revents & POLLIN) {
      alignas(inotify_event) char events[4096];
      const ssize_t n = ::read(watch, events, sizeof(events));
      for (ssize_t at = 0; at < n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(events + at);
        if (event->len > 0 && file == event->name) result.file_appeared = true;
        at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      }
      if (result.file_appeared) ::kill(pid, SIGKILL);
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      char buffer[4096];
      has_exited = ::read(out[0], buffer, sizeof(buffer)) == 0;
    }
  }
  ::waitpid(pid, &result.wait_status, 0);
  ::close(out[0]);
  ::close(watch);
  return result;
}

TEST(CliFinetune, SigkilledRunResumesToBitIdenticalAdapter) {
  const std::string full = fresh_dir("full");
  ASSERT_EQ(run_command(finetune_command(full, 40) + " > /dev/null").exit_code, 0);

  // Start a run, SIGKILL it as soon as its first checkpoint (step 5 of 40) is on disk, then resume it. A checkpoint
  // is written as a whole folder renamed into place (train/checkpoint.h), so the event is `checkpoint` moved into
  // the output folder.
  const std::string killed = fresh_dir("killed");
  std::filesystem::create_directories(killed);
  const KilledRun kill =
      run_until_file_then_kill(finetune_command(killed, 40) + " --save-steps 5", killed, "checkpoint");
  ASSERT_TRUE(kill.file_appeared) << "the run exited with wait status " << kill.wait_status
                                  << " before writing its first checkpoint";
  ASSERT_TRUE(WIFSIGNALED(kill.wait_status) && WTERMSIG(kill.wait_status) == SIGKILL)
      << "the run ended by itself (wait status " << kill.wait_status << ") before the SIGKILL";
  ASSERT_FALSE(std::filesystem::exists(killed + "/adapter_model.safetensors"));
  ASSERT_EQ(run_command(finetune_command(killed, 40) + " --save-steps 5 --resume > /dev/null").exit_code, 0);
  EXPECT_EQ(read_bytes(killed + "/adapter_model.safetensors"), read_bytes(full + "/adapter_model.safetensors"));
}

std::string without_leading_spaces(const std::string& text) {
  return text.substr(std::min(text.find_first_not_of(' '), text.size()));
}

// The adapter, served with --lora through the engine and the real tokenizer, answers the held-in prompts as taught:
// every prompt of the training set is generated greedily and counted when its text starts with the taught answer.
// After 150 steps 19-23 of the 40 are (seeds 7-10, measured; all of them among the 32 without an input) and the
// base model answers none, so at least 15 keeps a margin below the worst seed while still failing a run that
// learned little. Counting over the whole set, not one prompt, lets changes that move the training trajectory
// (another dropout stream, another summation order) pass when they keep the learning.
TEST(CliFinetune, ServedAdapterAnswersHeldInPromptsAsTaught) {
  const std::string full = fresh_dir("taught");
  ASSERT_EQ(run_command(finetune_command(full, 150) + " > /dev/null").exit_code, 0);

  const std::vector<TextExample> examples = load_jsonl_examples(kData, {});
  const std::string prompts = full + "/held_in_prompts.jsonl";
  {
    std::ofstream out(prompts);
    for (const TextExample& e : examples) out << nlohmann::json{{"prompt", e.source}}.dump() << "\n";
  }
  const testing::CommandResult r =
      run_command(kBinary + " generate --model " + kModel + " --lora stories=" + full + " --prompts-file " +
                  quote(prompts) + " --temperature 0 --max-tokens 24 --json 2> /dev/null");
  ASSERT_EQ(r.exit_code, 0);
  std::istringstream lines(r.out);
  std::string line, answers;
  size_t num_outputs = 0, num_taught = 0;
  while (std::getline(lines, line)) {
    ASSERT_LT(num_outputs, examples.size()) << line;
    const std::string text = nlohmann::json::parse(line)["outputs"][0]["text"];
    const std::string& taught = examples[num_outputs++].target;
    if (without_leading_spaces(text).rfind(without_leading_spaces(taught), 0) == 0) ++num_taught;
    answers += "\n" + taught + " -> " + text;
  }
  EXPECT_EQ(num_outputs, examples.size());
  EXPECT_GE(num_taught, 15u) << answers;
}

TEST(CliFinetune, MergeWritesLoadableModelFolder) {
  const std::string adapter = fresh_dir("merge_adapter");
  ASSERT_EQ(run_command(kBinary + " finetune --model " + kModel + " --data " + kData + " --output " + adapter +
                        " --lora-r 4 --max-steps 3 --quiet > /dev/null")
                .exit_code,
            0);
  const std::string merged = fresh_dir("merged");
  ASSERT_EQ(run_command(kBinary + " merge --model " + kModel + " --lora " + adapter + " --output " + merged).exit_code,
            0);
  for (const char* file : {"model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json"}) {
    EXPECT_TRUE(std::filesystem::exists(merged + "/" + file)) << file;
  }
  EXPECT_EQ(run_command(kBinary + " generate --model " + merged + " --prompt 'Once' --max-tokens 4 > /dev/null")
                .exit_code,
            0);

  // --quantization nf4: the merged weights re-quantized into bitsandbytes' layout, which loads to exactly the model
  // that quantizing the F32 merge while loading gives (same greedy tokens and logprobs).
  const std::string merged_nf4 = fresh_dir("merged_nf4");
  ASSERT_EQ(run_command(kBinary + " merge --model " + kModel + " --lora " + adapter + " --output " + merged_nf4 +
                        " --quantization nf4 > /dev/null")
                .exit_code,
            0);
  const nlohmann::json config = nlohmann::json::parse(read_bytes(merged_nf4 + "/config.json"));
  EXPECT_EQ(config["quantization_config"]["bnb_4bit_quant_type"], "nf4");
  EXPECT_EQ(config["quantization_config"]["bnb_4bit_use_double_quant"], true);
  EXPECT_FALSE(std::filesystem::exists(merged_nf4 + ".merged-f32.tmp"));
  const std::string sample = " --prompt 'Once upon a time' --temperature 0 --max-tokens 16 --logprobs 1 --json";
  const testing::CommandResult from_folder = run_command(kBinary + " generate --model " + merged_nf4 + sample);
  const testing::CommandResult while_loading =
      run_command(kBinary + " generate --model " + merged + " --quantization nf4" + sample);
  ASSERT_EQ(from_folder.exit_code, 0);
  ASSERT_EQ(while_loading.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(from_folder.out)["outputs"][0]["token_ids"],
            nlohmann::json::parse(while_loading.out)["outputs"][0]["token_ids"]);
  EXPECT_EQ(nlohmann::json::parse(from_folder.out)["outputs"][0]["cumulative_logprob"],
            nlohmann::json::parse(while_loading.out)["outputs"][0]["cumulative_logprob"]);

  const testing::CommandResult int8 = run_command(kBinary + " merge --model " + kModel + " --lora " + adapter +
                                                  " --output " + fresh_dir("merged_int8") + " --quantization int8 2>&1");
  EXPECT_NE(int8.exit_code, 0);
  EXPECT_NE(int8.out.find("bitsandbytes serialization"), std::string::npos) << int8.out;
}

TEST(CliFinetune, BadDataLineIsReportedAndRunDoesNotStart) {
  const std::string dir = fresh_dir("bad_data");
  std::filesystem::create_directories(dir);
  const std::string data = dir + "/bad.jsonl";
  std::ofstream(data) << "{\"instruction\": \"Hi\", \"output\": \"Hello.\"}\n{\"instruction\": 3}\n";
  const testing::CommandResult r = run_command(kBinary + " finetune --model " + kModel + " --data " + data +
                                               " --output " + dir + "/out --quiet 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("bad.jsonl:2"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/out/adapter_model.safetensors"));
}

}  // namespace
}  // namespace pagedllm
