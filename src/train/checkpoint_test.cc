#include "train/checkpoint.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "train/lora_parameters.h"
#include "util/error.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

const std::vector<LoraModuleSpec> kSpecs = {{0, "self_attn.q_proj", 64, 64}, {0, "mlp.down_proj", 96, 64}};

PagedAdamW make_optimizer(const std::vector<LoraModuleWeights>& modules) {
  return PagedAdamW(OptimizerKind::kAdamW8bit, parameter_sizes(modules), AdamWOptions{}, 4096, ::testing::TempDir(),
                    4096);
}

// A few optimizer steps with gradients from rng (standing in for backward).
void train_steps(std::vector<LoraModuleWeights>& modules, PagedAdamW& optimizer, Rng& rng, int num_steps) {
  auto grads = zero_like(modules);
  for (int s = 0; s < num_steps; ++s) {
    for (auto& g : grads) {
      for (auto& x : g.A) x = static_cast<float>(rng.normal());
      for (auto& x : g.B) x = static_cast<float>(rng.normal());
    }
    std::vector<const float*> g_ptrs;
    for (float* p : parameter_tensors(grads)) g_ptrs.push_back(p);
    optimizer.step(parameter_tensors(modules), g_ptrs, 1e-2f);
  }
}

TEST(CheckpointTest, ResumedRunEndsBitIdentical) {
  Rng init(1);
  auto uninterrupted = init_lora_modules(kSpecs, 8, init);
  auto interrupted = uninterrupted;
  PagedAdamW opt_a = make_optimizer(uninterrupted);
  Rng rng_a(7);
  train_steps(uninterrupted, opt_a, rng_a, 6);

  PagedAdamW opt_b = make_optimizer(interrupted);
  Rng rng_b(7);
  train_steps(interrupted, opt_b, rng_b, 3);
  const std::string path = ::testing::TempDir() + "/checkpoint_resume.safetensors";
  save_checkpoint(path, interrupted, opt_b, {3, rng_b.state(), {1, 4}});

  // A fresh process: new parameters (different init), new optimizer, new RNG, all restored from the file.
  Rng other(99);
  auto resumed = init_lora_modules(kSpecs, 8, other);
  PagedAdamW opt_c = make_optimizer(resumed);
  const TrainingProgress progress = load_checkpoint(path, resumed, opt_c);
  EXPECT_EQ(progress.step, 3);
  EXPECT_EQ(progress.data, (DataPosition{1, 4}));
  EXPECT_EQ(opt_c.num_steps(), 3);
  Rng rng_c;
  rng_c.set_state(progress.rng_state);
  train_steps(resumed, opt_c, rng_c, 3);
  for (size_t m = 0; m < resumed.size(); ++m) {
    EXPECT_EQ(std::memcmp(resumed[m].A.data(), uninterrupted[m].A.data(), resumed[m].A.size() * 4), 0) << m;
    EXPECT_EQ(std::memcmp(resumed[m].B.data(), uninterrupted[m].B.data(), resumed[m].B.size() * 4), 0) << m;
  }
}

TEST(CheckpointTest, RejectsCheckpointOfAnotherConfiguration) {
  Rng init(1);
  auto modules = init_lora_modules(kSpecs, 8, init);
  PagedAdamW optimizer = make_optimizer(modules);
  const std::string path = ::testing::TempDir() + "/checkpoint_other.safetensors";
  save_checkpoint(path, modules, optimizer, {});
  auto bigger = init_lora_modules(kSpecs, 16, init);
  PagedAdamW bigger_optimizer = make_optimizer(bigger);
  EXPECT_THROW(load_checkpoint(path, bigger, bigger_optimizer), Error);
  EXPECT_THROW(load_checkpoint(path + ".missing", modules, optimizer), Error);
}

// A fresh, empty folder under the test temp dir.
std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

PeftAdapter adapter_of(const std::vector<LoraModuleWeights>& modules) {
  PeftAdapter adapter;
  adapter.config.r = 8;
  adapter.config.target_modules = {"q_proj", "down_proj"};
  adapter.modules = modules;
  return adapter;
}

// The pid of a process that has exited (forked, reaped).
long dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  return child;
}

void touch(const std::string& path) { std::ofstream(path) << "x"; }

TEST(CheckpointTest, CheckpointFolderIsReplacedWhole) {
  Rng init(1);
  auto modules = init_lora_modules(kSpecs, 8, init);
  PagedAdamW optimizer = make_optimizer(modules);
  const std::string out = fresh_dir("checkpoint_whole");
  const std::string dir = out + "/checkpoint";
  save_checkpoint_dir(dir, modules, optimizer, {10, {}, {0, 10}}, adapter_of(modules));
  Rng rng(3);
  train_steps(modules, optimizer, rng, 1);
  save_checkpoint_dir(dir, modules, optimizer, {20, {}, {0, 20}}, adapter_of(modules));

  EXPECT_EQ(names_in(out), std::vector<std::string>{"checkpoint"}) << "no partial or old folder is left";
  EXPECT_EQ(names_in(dir), (std::vector<std::string>{"adapter_config.json", "adapter_model.safetensors",
                                                      "training_state.safetensors"}));
  auto restored = init_lora_modules(kSpecs, 8, init);
  PagedAdamW restored_optimizer = make_optimizer(restored);
  EXPECT_EQ(load_checkpoint(dir + "/" + kTrainingStateFile, restored, restored_optimizer).step, 20);
  const PeftAdapter adapter = load_peft_adapter(dir);
  ASSERT_EQ(adapter.modules.size(), modules.size());
  for (const LoraModuleWeights& saved : adapter.modules) {  // the reader sorts modules by (layer, name)
    auto same = std::find_if(restored.begin(), restored.end(), [&](const LoraModuleWeights& m) {
      return m.layer == saved.layer && m.module == saved.module;
    });
    ASSERT_NE(same, restored.end()) << saved.module;
    EXPECT_EQ(saved.A, same->A) << "the adapter is the state's step: " << saved.module;
    EXPECT_EQ(saved.B, same->B) << saved.module;
  }
}

TEST(CheckpointTest, StaleTemporariesAreRemovedBeforeARun) {
  const std::string out = fresh_dir("checkpoint_stale");
  const std::string dir = out + "/checkpoint";
  std::filesystem::create_directories(dir);
  std::filesystem::create_directories(out + "/checkpoint.partial-12");
  touch(out + "/checkpoint.partial-12/training_state.safetensors");
  const std::string dead = std::to_string(dead_pid());
  const std::string alive = std::to_string(::getpid());
  touch(out + "/adapter_model.safetensors.tmp-" + dead);
  touch(dir + "/training_state.safetensors.tmp-" + dead);
  touch(dir + "/adapter_config.json.tmp-" + alive);
  touch(dir + "/training_state.safetensors");

  std::vector<std::string> removed = remove_stale_checkpoint_files(out, dir);
  std::sort(removed.begin(), removed.end());
  EXPECT_EQ(removed, (std::vector<std::string>{out + "/adapter_model.safetensors.tmp-" + dead,
                                               out + "/checkpoint.partial-12",
                                               dir + "/training_state.safetensors.tmp-" + dead}));
  EXPECT_EQ(names_in(dir), (std::vector<std::string>{"adapter_config.json.tmp-" + alive,
                                                      "training_state.safetensors"}))
      << "a live process's temporary stays";
}

TEST(CheckpointTest, OldFolderOfAnInterruptedSwapIsRestored) {
  const std::string out = fresh_dir("checkpoint_old");
  std::filesystem::create_directories(out + "/checkpoint.old-12");
  touch(out + "/checkpoint.old-12/training_state.safetensors");
  std::filesystem::create_directories(out + "/checkpoint.partial-12");
  EXPECT_EQ(remove_stale_checkpoint_files(out, out + "/checkpoint"),
            std::vector<std::string>{out + "/checkpoint.partial-12"});
  EXPECT_EQ(names_in(out), std::vector<std::string>{"checkpoint"});
  EXPECT_EQ(names_in(out + "/checkpoint"), std::vector<std::string>{"training_state.safetensors"});
}

}  // namespace
}  // namespace pagedllm
