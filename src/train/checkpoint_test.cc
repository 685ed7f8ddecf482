#include "train/checkpoint.h"

#include <gtest/gtest.h>

#include <cstring>

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

}  // namespace
}  // namespace pagedllm
