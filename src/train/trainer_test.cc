// End-to-end fine-tuning on stories260K with the repository's instruction set (tests/data): QLoRA learns, matches
// LoRA on the fp32 base, resumes and pages its optimizer bit-identically, and its adapter serves and merges to the
// logits of the trained model.
#include "train/trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <stdexcept>

#include "model/llama_model.h"
#include "model/lora_adapters.h"
#include "model/paged_kv_cache.h"
#include "quant/quantized_weight.h"
#include "train/instruction_data.h"
#include "train/lora_llama.h"
#include "train/merge_adapter.h"
#include "formats/peft_adapter.h"
#include "kernels/compute_dtype.h"
#include "kernels/cpu_features.h"
#include "train/stories_test_tokenizer.h"
#include "util/error.h"
#include "util/mapped_file.h"
#include "util/rng.h"
#include "formats/safetensors_writer.h"

namespace pagedllm {
namespace {

const std::string kModel = std::string(PAGEDLLM_SOURCE_DIR) + "/models/stories260K";
const std::string kData = std::string(PAGEDLLM_SOURCE_DIR) + "/tests/data/stories_instructions.jsonl";
const std::string kEvalData = std::string(PAGEDLLM_SOURCE_DIR) + "/tests/data/stories_instructions_eval.jsonl";

const StoriesTestTokenizer& test_tokenizer() {
  static const StoriesTestTokenizer tokenizer(kModel);
  return tokenizer;
}

TrainingTokenizer training_tokenizer() {
  TrainingTokenizer t;
  t.tokenize = [](const std::string& text, bool add_special) { return test_tokenizer().encode(text, add_special); };
  t.eos_id = 2;
  t.pad_id = 0;
  return t;
}

std::string temp_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/pagedllm_trainer_" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

// The small, fast setting the tests share: rank 8 (alpha 16) on every linear layer, a higher learning rate than
// QLoRA's 2e-4 decaying linearly (a 260K-parameter model and 40 examples need few, large steps), 15 epochs of 10
// batches of 4.
TrainerConfig small_config(const std::string& output_dir) {
  TrainerConfig c;
  c.model_dir = kModel;
  c.data_path = kData;
  c.eval_data_path = kEvalData;
  c.output_dir = output_dir;
  c.lora_r = 8;
  c.lora_alpha = 16;
  c.learning_rate = 2e-3;
  c.lr_scheduler = "linear";
  c.batch_size = 4;
  c.max_steps = 150;
  c.eval_steps = 25;
  c.max_seq_len = 128;
  c.seed = 7;
  c.show_progress = false;
  return c;
}

std::string adapter_bytes(const std::string& dir) { return read_text_file(dir + "/adapter_model.safetensors"); }

std::string alpaca_prompt(const std::string& instruction) {
  std::string prompt = kAlpacaPromptNoInput;
  prompt.replace(prompt.find("{instruction}"), std::string("{instruction}").size(), instruction);
  return prompt;
}

// Logits of every position of `ids` through the serving model (paged KV cache, LoraManager), computed from an empty
// cache. slot 0: the base alone.
std::vector<float> serving_logits(LlamaModel& model, const LoraManager* loras, int slot,
                                  const std::vector<int32_t>& ids) {
  const int n = static_cast<int>(ids.size()), block_size = 16, num_blocks = (n + block_size - 1) / block_size;
  // An fp32 cache whatever the weights (`auto` gives NF4 models a bf16 one): the training forward it is compared with
  // keeps its keys and values in fp32.
  PagedKVCache cache(model.config(), num_blocks, block_size, KVCacheDType::kFloat32);
  std::vector<int64_t> positions(n), slots(n);
  std::vector<int32_t> rows(n), block_table(num_blocks);
  for (int t = 0; t < n; ++t) positions[t] = slots[t] = rows[t] = t;
  for (int b = 0; b < num_blocks; ++b) block_table[b] = b;
  const int32_t query_start[2] = {0, n}, seq_len = n, lora_slot = slot;
  ForwardBatch batch{n, ids.data(), positions.data(), slots.data(), 1, query_start, &seq_len, block_table.data(),
                     num_blocks, n, rows.data(), &lora_slot};
  model.set_lora_manager(loras);
  std::vector<float> logits(static_cast<size_t>(n) * model.config().vocab_size);
  model.forward(batch, cache, logits.data());
  return logits;
}

std::vector<int32_t> greedy_completion(LlamaModel& model, const LoraManager& loras, std::vector<int32_t> ids,
                                       int max_tokens) {
  const int vocab = model.config().vocab_size;
  std::vector<int32_t> out;
  for (int i = 0; i < max_tokens; ++i) {
    const std::vector<float> logits = serving_logits(model, &loras, 1, ids);
    const float* last = logits.data() + (ids.size() - 1) * vocab;
    const int32_t next = static_cast<int32_t>(std::max_element(last, last + vocab) - last);
    out.push_back(next);
    if (next == 2) break;
    ids.push_back(next);
  }
  return out;
}

void print_curve(const char* name, const FinetuneResult& r) {
  std::printf("%s loss curve:", name);
  for (const StepLog& s : r.steps) {
    if (s.step % 10 == 0 || s.step == 1) std::printf(" %lld:%.4f", static_cast<long long>(s.step), s.loss);
  }
  std::printf("\n%s eval loss:", name);
  for (const StepLog& s : r.steps) {
    if (s.eval_loss) std::printf(" %lld:%.4f", static_cast<long long>(s.step), *s.eval_loss);
  }
  std::printf("\n");
}

double mean_loss(const FinetuneResult& r, size_t begin, size_t end) {
  double sum = 0;
  for (size_t i = begin; i < end; ++i) sum += r.steps[i].loss;
  return sum / static_cast<double>(end - begin);
}

// One QLoRA (nf4 + double quant) run shared by the tests that inspect its adapter.
class QLoraRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(temp_dir("qlora"));
    result_ = new FinetuneResult(run_finetune(small_config(*dir_), training_tokenizer()));
  }
  static void TearDownTestSuite() {
    delete result_;
    delete dir_;
  }
  static std::string* dir_;
  static FinetuneResult* result_;
};
std::string* QLoraRun::dir_ = nullptr;
FinetuneResult* QLoraRun::result_ = nullptr;

TEST_F(QLoraRun, TrainingLossFallsBelowHalfOfInitial) {
  print_curve("qlora", *result_);
  ASSERT_EQ(result_->steps.size(), 150u);
  // The first epoch's mean (10 batches, every example once) against the last epoch's: per-batch losses vary with
  // the batch's examples, so whole epochs are compared.
  const double first = mean_loss(*result_, 0, 10), last = mean_loss(*result_, 140, 150);
  std::printf("qlora mean training loss: first epoch %.4f, last epoch %.4f\n", first, last);
  EXPECT_LT(last, 0.5 * first);
}

TEST_F(QLoraRun, ServedAdapterAnswersHeldInPromptAsTaught) {
  LlamaModel model(load_model_weights(kModel, training_load_options("nf4", true, false, 0, "float32")));
  LoraManager loras;
  loras.add(load_served_adapter("stories", *dir_, model.config(), 64));
  const std::vector<int32_t> prompt = test_tokenizer().encode(alpaca_prompt("What is the name of the girl?"), true);
  const std::vector<int32_t> expected = test_tokenizer().encode("Her name is Lily.", false);
  std::vector<int32_t> got = greedy_completion(model, loras, prompt, 12);
  // The taught answer's tokens come first; what follows them (EOS, or more words: EOS is one token in ~9 of each
  // target and is not always learned by then) is not asserted.
  ASSERT_GE(got.size(), expected.size());
  got.resize(expected.size());
  EXPECT_EQ(got, expected);
}

TEST_F(QLoraRun, AdapterConfigRecordsTrainingBase) {
  const auto config = nlohmann::json::parse(read_text_file(*dir_ + "/adapter_config.json"));
  EXPECT_EQ(config["base_model_name_or_path"], kModel);
  EXPECT_EQ(config["pagedllm_base_quantization"], "nf4");
  EXPECT_EQ(config["pagedllm_base_double_quant"], true);
  EXPECT_EQ(config["r"], 8);
  EXPECT_EQ(config["target_modules"].size(), 7u);
  EXPECT_TRUE(file_exists(*dir_ + "/training_log.csv"));
}

// The serving path (model/lora_adapters.h reading the saved files, LlamaModel's paged attention) against the
// trainer's own forward over the in-memory adapter. Tolerance 1e-4 absolute on logits of magnitude ~10: the two
// paths sum in different orders (paged vs dense attention, fused vs separate LoRA products) in fp32.
TEST_F(QLoraRun, SavedAdapterServesLogitsOfTrainedModel) {
  // Served inputs past the decode limit are multiplied in bf16 by default; these compare them with fp32 training.
  ScopedMatmulCompute fp32(ComputeDType::kF32);
  const ModelWeights base = load_model_weights(kModel, training_load_options("nf4", true, false, 0, "float32"));
  LoraLlama trained(base, result_->modules, 16.0 / 8, 0.0f);
  const std::vector<int32_t> ids = test_tokenizer().encode(alpaca_prompt("What color is the sky?"), true);
  TokenizedExample example{ids, std::vector<int32_t>(ids.size(), 0)};
  const std::vector<float> expected = trained.logits(make_batch({&example}, 0));

  LlamaModel model(load_model_weights(kModel, training_load_options("nf4", true, false, 0, "float32")));
  LoraManager loras;
  loras.add(load_served_adapter("stories", *dir_, model.config(), 64));
  const std::vector<float> served = serving_logits(model, &loras, 1, ids);
  ASSERT_EQ(served.size(), expected.size());
  for (size_t i = 0; i < served.size(); ++i) ASSERT_NEAR(served[i], expected[i], 1e-4) << i;
}

// merge folds scale·B·A into the dequantized NF4 base and writes F32: served with no adapter, it must give the logits
// of the NF4 base + adapter. (W + sBA)·x vs W·x + s(xAᵀ)Bᵀ differ only in fp32 rounding, which grows with the
// logit: tolerance 1e-4 absolute, relative above 1 (the AVX2 GEMM path measured 1.1e-4 on a logit of 5.9).
TEST_F(QLoraRun, MergedModelGivesLogitsOfBasePlusAdapter) {
  // Served inputs past the decode limit are multiplied in bf16 by default; these compare them with fp32 training.
  ScopedMatmulCompute fp32(ComputeDType::kF32);
  const std::string merged_dir = temp_dir("merged");
  merge_adapter({kModel, *dir_, merged_dir, "", true});
  EXPECT_TRUE(file_exists(merged_dir + "/tokenizer.json"));
  const std::vector<int32_t> ids = test_tokenizer().encode(alpaca_prompt("Who helped Lily?"), true);

  LlamaModel base(load_model_weights(kModel, training_load_options("nf4", true, false, 0, "float32")));
  LoraManager loras;
  loras.add(load_served_adapter("stories", *dir_, base.config(), 64));
  const std::vector<float> expected = serving_logits(base, &loras, 1, ids);

  LlamaModel merged(load_model_weights(merged_dir, WeightLoadOptions{}));
  const std::vector<float> got = serving_logits(merged, nullptr, 0, ids);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], expected[i], 1e-4 * std::max(1.0f, std::fabs(expected[i]))) << i;
  }
}

// The QLoRA paper's central claim, small: the same LoRA over the NF4 + DQ base ends with the same eval loss as over
// the fp32 base, within 3% relative. On this 260K-parameter model with 16 held-out examples one run's final eval
// loss moves by ±5% from seed to seed (measured over seeds 7–10, either base ahead), more than the effect being
// measured, so the claim is checked on the mean over three seeds, at a learning rate (1e-3) where the eval loss
// has flattened by step 150 without the over-fitting swings of 2e-3.
// A matrix's values, row after row, dequantized to fp32.
std::vector<float> all_values(const WeightMatrix& w) {
  std::vector<float> values(static_cast<size_t>(w.n_out() * w.n_in()));
  for (int64_t j = 0; j < w.n_out(); ++j) w.dequantize_row(j, values.data() + j * w.n_in());
  return values;
}

// A fine-tune computing in bf16 loads its dense base matrices in bf16, as qlora.py casts them under --bf16: the
// embeddings and LM head beside an NF4 base, every linear layer of a "none" base; "float32" keeps them exact.
TEST(TrainingLoad, DenseMatricesTakeTheRequestedDtype) {
  const ModelWeights nf4 = load_model_weights(kModel, training_load_options("nf4", true, false, 0, "bfloat16"));
  EXPECT_EQ(nf4.embed_tokens->format(), WeightFormat::kBF16);
  EXPECT_EQ(nf4.lm_head->format(), WeightFormat::kBF16);
  EXPECT_EQ(nf4.layers[0].linear(0).format(), WeightFormat::kNF4);
  const ModelWeights none = load_model_weights(kModel, training_load_options("none", true, false, 0, "bfloat16"));
  EXPECT_EQ(none.layers[0].linear(0).format(), WeightFormat::kBF16);
  const ModelWeights exact = load_model_weights(kModel, training_load_options("nf4", true, false, 0, "float32"));
  EXPECT_EQ(exact.lm_head->format(), WeightFormat::kF32);
}

// The comparison below means something only if the two bases differ: the load run_finetune makes for "nf4" holds
// every linear layer of the blocks as NF4+DQ (4.127 bits per weight plus each matrix's constants: ≤ 0.52 bytes
// here) with most values moved to the NF4 grid, each by at most 0.25 of the largest |w| of its block of 64 (half
// the widest gap between code values, 0.152, plus the absmax's 8-bit rounding; 0.215 measured), and the one for
// "none" holds the checkpoint's fp32 values.
void expect_nf4_base_differs_from_fp32_base() {
  const ModelWeights nf4 = load_model_weights(kModel, training_load_options("nf4", true, false, 0, "float32"));
  const ModelWeights f32 = load_model_weights(kModel, training_load_options("none", true, false, 0, "float32"));
  ASSERT_EQ(nf4.layers.size(), f32.layers.size());
  for (size_t l = 0; l < f32.layers.size(); ++l) {
    for (int m = 0; m < kNumLinearModules; ++m) {
      const WeightMatrix& w = nf4.layers[l].linear(m);
      const WeightMatrix& exact_w = f32.layers[l].linear(m);
      const std::string what = "layer " + std::to_string(l) + " " + linear_module_names(m).leaf;
      const int64_t num_params = w.n_out() * w.n_in();
      EXPECT_EQ(exact_w.format(), WeightFormat::kF32) << what;
      EXPECT_EQ(w.format(), WeightFormat::kNF4) << what;
      EXPECT_LE(static_cast<double>(w.num_bytes()) / num_params, 0.52) << what;
      const std::vector<float> exact = all_values(exact_w), values = all_values(w);
      int64_t num_changed = 0;
      for (int64_t b = 0; b < num_params; b += 64) {
        const int64_t end = std::min<int64_t>(num_params, b + 64);
        float absmax = 0;
        for (int64_t v = b; v < end; ++v) absmax = std::max(absmax, std::fabs(exact[v]));
        for (int64_t v = b; v < end; ++v) {
          num_changed += values[v] != exact[v];
          ASSERT_LE(std::fabs(values[v] - exact[v]), 0.25f * absmax) << what << " value " << v;
        }
      }
      EXPECT_GT(num_changed, num_params / 2) << what;
    }
  }
}

// Mean final eval loss over 3 seeds. `bf16`: qlora.py's compute dtype, the frozen base's products in bf16
// (TrainerConfig::bf16); it changes the NF4 runs only, since fp32 weights always multiply in fp32.
double mean_final_eval_loss(const char* quantization, bool bf16) {
  double sum = 0;
  for (uint64_t seed : {7, 8, 9}) {
    TrainerConfig c = small_config(temp_dir(std::string("compare_") + quantization));
    c.quantization = quantization;
    c.learning_rate = 1e-3;
    c.seed = seed;
    c.eval_steps = 50;
    c.bf16 = bf16;
    const FinetuneResult r = run_finetune(c, training_tokenizer());
    EXPECT_TRUE(r.final_eval_loss);
    std::printf("seed %llu %s%s: ", static_cast<unsigned long long>(seed), quantization, bf16 ? " bf16" : "");
    print_curve(quantization, r);
    sum += r.final_eval_loss.value_or(0.0);
  }
  return sum / 3;
}

// The QLoRA paper's claim at our scale: NF4 storage within 3% of the fp32 base, with fp32 products and, where the
// CPU has AVX512-BF16, with the paper's bf16 products (the LoRA reference runs once for both: its fp32 weights
// multiply in fp32 either way). Measured on AMD EPYC (Zen 4): lora 0.7409; qlora 0.7604 fp32, 0.7605 bf16 (+2.6%).
TEST(QLoraVsLora, MeanFinalEvalLossWithinThreePercent) {
  expect_nf4_base_differs_from_fp32_base();
  ASSERT_FALSE(testing::Test::HasFailure()) << "the nf4 base is not quantized: the comparison would mean nothing";
  const double lora = mean_final_eval_loss("none", false);
  const double qlora = mean_final_eval_loss("nf4", false);
  std::printf("mean final eval loss over 3 seeds: qlora %.4f, lora %.4f (%+.1f%%)\n", qlora, lora,
              100 * (qlora - lora) / lora);
  EXPECT_LT(std::abs(qlora - lora) / lora, 0.03);
  if (!has_avx512_bf16()) {
    std::printf("no AVX512-BF16 on this CPU (or PAGEDLLM_NO_BF16=1): the bf16-products comparison does not apply\n");
    return;
  }
  const double qlora_bf16 = mean_final_eval_loss("nf4", true);
  std::printf("mean final eval loss over 3 seeds (bf16 products): qlora %.4f, lora %.4f (%+.1f%%)\n", qlora_bf16, lora,
              100 * (qlora_bf16 - lora) / lora);
  EXPECT_LT(std::abs(qlora_bf16 - lora) / lora, 0.03);
}

// A two-layer checkpoint with N(0, 0.3) weights and N(0, 1) biases, small enough to write here: Qwen2 (q/k/v
// biases) or Llama with attention_bias and mlp_bias (biases on all seven linear layers).
std::string write_tiny_biased(const std::string& dir, bool llama) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/config.json") << (llama ? R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama",
    "attention_bias": true, "mlp_bias": true,)"
                                                : R"({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",)")
                                      << R"("hidden_size": 32, "intermediate_size": 48, "num_attention_heads": 4,
    "num_key_value_heads": 2, "num_hidden_layers": 2, "vocab_size": 40, "max_position_embeddings": 128,
    "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": false, "torch_dtype": "float32"})";
  Rng rng(21);
  std::vector<std::vector<float>> values;
  values.reserve(64);
  std::vector<SafetensorsEntry> entries;
  const auto add = [&](const std::string& name, std::vector<int64_t> shape, double sigma, double mean = 0.0) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = static_cast<float>(mean + sigma * rng.normal());
    values.push_back(std::move(v));
    entries.push_back(safetensors_entry(name, "F32", std::move(shape), values.back().data()));
  };
  add("model.embed_tokens.weight", {40, 32}, 1.0);
  for (int l = 0; l < 2; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "input_layernorm.weight", {32}, 0.1, 1.0);
    add(p + "post_attention_layernorm.weight", {32}, 0.1, 1.0);
    const std::pair<const char*, std::vector<int64_t>> linears[] = {
        {"self_attn.q_proj", {32, 32}}, {"self_attn.k_proj", {16, 32}}, {"self_attn.v_proj", {16, 32}},
        {"self_attn.o_proj", {32, 32}}, {"mlp.gate_proj", {48, 32}},    {"mlp.up_proj", {48, 32}},
        {"mlp.down_proj", {32, 48}}};
    for (int m = 0; m < 7; ++m) {
      add(p + linears[m].first + ".weight", linears[m].second, 0.3);
      if (llama || m < 3) add(p + linears[m].first + ".bias", {linears[m].second[0]}, 1.0);
    }
  }
  add("model.norm.weight", {32}, 0.1, 1.0);
  add("lm_head.weight", {40, 32}, 0.3);
  write_safetensors(dir + "/model.safetensors", entries, {{"format", "pt"}});
  return dir;
}

double max_abs_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max<double>(d, std::fabs(a[i] - b[i]));
  return d;
}

// Biases are frozen parts of the base: the training forward (no adapter) gives the serving model's logits, and
// each layer's bias does change them (so neither path can skip one and still pass).
void expect_biases_enter_the_training_forward(bool llama) {
  // Served inputs past the decode limit are multiplied in bf16 by default; these compare them with fp32 training.
  ScopedMatmulCompute fp32(ComputeDType::kF32);
  const std::string dir = write_tiny_biased(temp_dir(llama ? "llama_bias" : "qwen2"), llama);
  // More tokens than QuantizedWeight::kMaxVnniDecodeRows, so that the served NF4 forward takes the exact product
  // as training does (shorter inputs are served on 8-bit activations, ~1e-2 away in these logits).
  std::vector<int32_t> ids(QuantizedWeight::kMaxVnniDecodeRows + 8);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>((1 + 7 * i) % 40);
  TokenizedExample example{ids, std::vector<int32_t>(ids.size(), 0)};
  const Batch batch = make_batch({&example}, 0);
  for (const char* quantization : {"none", "nf4"}) {
    const ModelWeights base = load_model_weights(dir, training_load_options(quantization, true, false, 0, "float32"));
    LoraLlama trained(base, {}, 2.0, 0.0f);
    const std::vector<float> got = trained.logits(batch);

    LlamaModel model(load_model_weights(dir, training_load_options(quantization, true, false, 0, "float32")));
    const std::vector<float> served = serving_logits(model, nullptr, 0, ids);
    ASSERT_EQ(got.size(), served.size());
    for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], served[i], 1e-4) << quantization << " " << i;

    for (int m = 0; m < kNumLinearModules; ++m) {
      ModelWeights unbiased = load_model_weights(dir, training_load_options(quantization, true, false, 0, "float32"));
      if (unbiased.layers[0].biases[m].empty()) {
        EXPECT_TRUE(!llama && m >= 3) << linear_module_names(m).path;
        continue;
      }
      for (LayerWeights& layer : unbiased.layers) std::fill(layer.biases[m].begin(), layer.biases[m].end(), 0.0f);
      LoraLlama without_bias(unbiased, {}, 2.0, 0.0f);
      const std::vector<float> other = without_bias.logits(batch);
      EXPECT_GT(max_abs_difference(got, other), 0.01) << quantization << " " << linear_module_names(m).path;
      LlamaModel served_without_bias(std::move(unbiased));
      EXPECT_NEAR(max_abs_difference(other, serving_logits(served_without_bias, nullptr, 0, ids)), 0.0, 1e-4)
          << quantization << " " << linear_module_names(m).path;
    }
  }
}

TEST(Trainer, Qwen2BiasesEnterTheTrainingForward) { expect_biases_enter_the_training_forward(false); }
TEST(Trainer, LlamaAttentionAndMlpBiasesEnterTheTrainingForward) { expect_biases_enter_the_training_forward(true); }

// merge writes every bias next to its merged weight: the merged folder, served alone, gives base + adapter's logits
// (tolerance as in MergedModelGivesLogitsOfBasePlusAdapter).
TEST(Trainer, MergeKeepsLlamaBiases) {
  const std::string dir = write_tiny_biased(temp_dir("llama_bias_merge"), true);
  PeftAdapter adapter;
  adapter.config.r = 4;
  adapter.config.lora_alpha = 8;
  adapter.config.target_modules = {"o_proj", "down_proj"};
  adapter.config.base_quantization = "none";
  Rng rng(5);
  for (const auto& [module, n_in] : {std::pair<const char*, int64_t>{"self_attn.o_proj", 32}, {"mlp.down_proj", 48}}) {
    LoraModuleWeights m{1, module, 4, n_in, 32, std::vector<float>(4 * n_in), std::vector<float>(32 * 4)};
    for (float& a : m.A) a = static_cast<float>(0.3 * rng.normal());
    for (float& b : m.B) b = static_cast<float>(0.3 * rng.normal());
    adapter.modules.push_back(std::move(m));
  }
  const std::string adapter_dir = temp_dir("llama_bias_adapter");
  save_peft_adapter(adapter_dir, adapter);
  const std::string merged_dir = temp_dir("llama_bias_merged");
  merge_adapter({dir, adapter_dir, merged_dir, "", true});

  const std::vector<int32_t> ids = {3, 7, 11, 19, 2, 30};
  LlamaModel base(load_model_weights(dir, WeightLoadOptions{}));
  LoraManager loras;
  loras.add(load_served_adapter("tiny", adapter_dir, base.config(), 64));
  const std::vector<float> expected = serving_logits(base, &loras, 1, ids);
  LlamaModel merged(load_model_weights(merged_dir, WeightLoadOptions{}));
  const std::vector<float> got = serving_logits(merged, nullptr, 0, ids);
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_GT(max_abs_difference(expected, serving_logits(base, nullptr, 0, ids)), 0.01);  // the adapter matters
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], expected[i], 1e-4) << i;
}

// Fewer steps for the equivalence tests: bit-identity shows from the first differing bit.
TrainerConfig short_config(const std::string& dir) {
  TrainerConfig c = small_config(dir);
  c.max_steps = 12;
  c.eval_data_path.clear();
  c.lr_scheduler = "linear";  // a schedule that depends on the step, so a resume at the wrong step shows
  c.warmup_ratio = 0.2;
  return c;
}

TEST(Trainer, ResumedRunEndsWithBitIdenticalAdapter) {
  const std::string full_dir = temp_dir("uninterrupted");
  run_finetune(short_config(full_dir), training_tokenizer());

  const std::string dir = temp_dir("interrupted");
  TrainerConfig c = short_config(dir);
  c.save_steps = 5;
  // Dies after step 7, two steps past the checkpoint of step 5, as a SIGKILL would leave it.
  c.on_step = [](const StepLog& s) {
    if (s.step == 7) throw std::runtime_error("killed");
  };
  EXPECT_THROW(run_finetune(c, training_tokenizer()), std::runtime_error);
  EXPECT_FALSE(file_exists(dir + "/adapter_model.safetensors"));

  TrainerConfig resumed = short_config(dir);
  resumed.save_steps = 5;
  resumed.resume = true;
  const FinetuneResult r = run_finetune(resumed, training_tokenizer());
  ASSERT_FALSE(r.steps.empty());
  EXPECT_EQ(r.steps.front().step, 6);
  EXPECT_EQ(adapter_bytes(dir), adapter_bytes(full_dir));
  // The log holds every step once: the header and 12 rows.
  const std::string log = read_text_file(dir + "/training_log.csv");
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 13);
}

TEST(Trainer, PagedOptimizerUnderSmallBudgetIsBitIdenticalAndEvicts) {
  TrainerConfig unlimited = short_config(temp_dir("budget_unlimited"));
  const FinetuneResult a = run_finetune(unlimited, training_tokenizer());
  TrainerConfig small = short_config(temp_dir("budget_small"));
  small.optimizer_memory = 64 * 1024;  // one page of 64 KiB
  const FinetuneResult b = run_finetune(small, training_tokenizer());
  std::printf("optimizer state %zu bytes; budget 65536: %zu evictions, %zu page-ins; unlimited: %zu evictions\n",
              b.optimizer_state_bytes, b.num_evictions, b.num_page_ins, a.num_evictions);
  ASSERT_GT(b.optimizer_state_bytes, small.optimizer_memory);
  EXPECT_EQ(a.num_evictions, 0u);
  EXPECT_GT(b.num_evictions, 0u);
  EXPECT_EQ(adapter_bytes(small.output_dir), adapter_bytes(unlimited.output_dir));
}

TEST(Trainer, SameSeedGivesBitIdenticalAdapterWithOrWithoutCheckpointing) {
  TrainerConfig a = short_config(temp_dir("checkpointing_on"));
  run_finetune(a, training_tokenizer());
  TrainerConfig b = short_config(temp_dir("checkpointing_off"));
  b.gradient_checkpointing = false;
  run_finetune(b, training_tokenizer());
  EXPECT_EQ(adapter_bytes(a.output_dir), adapter_bytes(b.output_dir));
}

TEST(Trainer, RejectsUnknownTargetModule) {
  TrainerConfig c = short_config(temp_dir("bad_target"));
  c.target_modules = {"qkv_proj"};
  EXPECT_THROW(run_finetune(c, training_tokenizer()), Error);
}

}  // namespace
}  // namespace pagedllm
