#include "train/trainer.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

#include "kernels/compute_dtype.h"
#include "quant/quantize.h"
#include "train/checkpoint.h"
#include "train/data_parallel.h"
#include "train/data_loader.h"
#include "train/grad_clip.h"
#include "train/lora_llama.h"
#include "train/lora_parameters.h"
#include "train/lr_schedule.h"
#include "train/paged_adamw.h"
#include "train/progress.h"
#include "util/error.h"
#include "util/mapped_file.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

constexpr const char* kLogFile = "training_log.csv";
constexpr const char* kCheckpointDir = "checkpoint";

void make_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    throw_error(ErrorKind::kIo, "cannot create folder {}: {}", dir, std::strerror(errno));
  }
}

void check_config(const TrainerConfig& c) {
  const auto positive = [](int64_t v, const char* flag) {
    if (v < 1) throw_error(ErrorKind::kInvalidArgument, "{} must be at least 1, got {}", flag, v);
  };
  positive(c.lora_r, "--lora-r");
  positive(c.batch_size, "--batch-size");
  positive(c.gradient_accumulation_steps, "--gradient-accumulation-steps");
  positive(c.max_seq_len, "--max-seq-len");
  if (c.max_steps < 1) positive(c.epochs, "--epochs");
  if (c.lora_dropout < 0 || c.lora_dropout >= 1) {
    throw_error(ErrorKind::kInvalidArgument, "--lora-dropout must be in [0, 1), got {}", c.lora_dropout);
  }
  if (!(c.learning_rate > 0)) throw_error(ErrorKind::kInvalidArgument, "--learning-rate must be positive");
  if (c.output_dir.empty()) throw_error(ErrorKind::kInvalidArgument, "--output is required");
}

// The block linear indices to adapt, from "all" or leaf names.
std::vector<int> target_indices(const std::vector<std::string>& names) {
  std::vector<int> out;
  for (const std::string& name : names) {
    if (name == "all" || name == "all-linear") {
      out.clear();
      for (int m = 0; m < kNumLinearModules; ++m) out.push_back(m);
      return out;
    }
    const int m = find_linear_module(name);
    if (m < 0) {
      throw_error(ErrorKind::kInvalidArgument,
                  "--lora-target-modules: unknown module {} (expected all or q_proj, k_proj, v_proj, o_proj, "
                  "gate_proj, up_proj, down_proj)", name);
    }
    if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
  }
  if (out.empty()) throw_error(ErrorKind::kInvalidArgument, "--lora-target-modules names no module");
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<LoraModuleSpec> module_specs(const ModelWeights& base, const std::vector<int>& targets) {
  std::vector<LoraModuleSpec> specs;
  for (int l = 0; l < base.config.num_hidden_layers; ++l) {
    for (const int m : targets) {
      const WeightMatrix& w = base.layers[l].linear(m);
      specs.push_back({l, linear_module_names(m).path, w.n_in(), w.n_out()});
    }
  }
  return specs;
}

std::vector<TokenizedExample> load_tokenized(const std::string& path, const TrainerConfig& c,
                                             const TrainingTokenizer& tok) {
  const std::vector<TextExample> texts = load_jsonl_examples(path, tok.chat_template);
  return tokenize_examples(texts, tok.tokenize, {tok.eos_id, c.train_on_source, c.max_seq_len});
}

// Mean token loss over an evaluation set, in file order, batch_size examples at a time. Batch b runs on rank
// b mod N; the per-batch sums are added in batch order, so the result is the same double for every N.
double evaluate(Communicator& comm, LoraLlama& model, const std::vector<TokenizedExample>& examples,
                int64_t batch_size, int32_t pad_id) {
  std::vector<double> loss_sums;
  int64_t num_targets = 0;
  for (size_t begin = 0; begin < examples.size(); begin += batch_size) {
    std::vector<const TokenizedExample*> group;
    for (size_t i = begin; i < std::min(examples.size(), begin + batch_size); ++i) group.push_back(&examples[i]);
    const Batch batch = make_batch(group, pad_id);
    const bool is_mine = static_cast<int64_t>(loss_sums.size()) % comm.size() == comm.rank();
    loss_sums.push_back(is_mine ? model.loss_sum(batch) : 0.0);
    num_targets += batch.num_targets;
  }
  const double loss_sum = sum_slots_in_order(comm, std::move(loss_sums));
  return num_targets > 0 ? loss_sum / static_cast<double>(num_targets) : 0.0;
}

// training_log.csv: "step,loss,eval_loss,lr". A resumed run keeps the rows up to its checkpoint's step.
class TrainingLog {
 public:
  TrainingLog(const std::string& path, int64_t resumed_step) : path_(path) {
    std::string kept = "step,loss,eval_loss,lr\n";
    if (resumed_step > 0 && file_exists(path)) {
      std::istringstream in(read_text_file(path));
      std::string line;
      std::getline(in, line);  // header
      while (std::getline(in, line)) {
        if (!line.empty() && std::stoll(line) <= resumed_step) kept += line + "\n";
      }
    }
    std::ofstream out(path, std::ios::trunc);
    out << kept;
    if (!out) throw_error(ErrorKind::kIo, "cannot write {}", path);
  }

  void append(const StepLog& s) {
    std::ofstream out(path_, std::ios::app);
    out << fmt::format("{},{:.6f},{},{:.6e}\n", s.step, s.loss,
                       s.eval_loss ? fmt::format("{:.6f}", *s.eval_loss) : std::string(), s.lr);
  }

 private:
  std::string path_;
};

PeftAdapter make_adapter(const TrainerConfig& c, const std::vector<int>& targets,
                         const std::vector<LoraModuleWeights>& modules) {
  PeftAdapter adapter;
  adapter.config.r = c.lora_r;
  adapter.config.lora_alpha = c.lora_alpha;
  adapter.config.lora_dropout = c.lora_dropout;
  for (const int m : targets) adapter.config.target_modules.push_back(linear_module_names(m).leaf);
  adapter.config.base_model_name_or_path = c.model_dir;
  adapter.config.base_quantization = c.quantization;
  adapter.config.base_double_quant = c.quantization != "none" && c.double_quant;
  adapter.modules = modules;
  return adapter;
}

int64_t total_steps(const TrainerConfig& c, const DataLoader& loader) {
  if (c.max_steps > 0) return c.max_steps;
  const int64_t per_epoch = (loader.batches_per_epoch() + c.gradient_accumulation_steps - 1) /
                            c.gradient_accumulation_steps;
  return per_epoch * c.epochs;
}

// One optimizer step: gradient_accumulation_steps micro-batches shared out over the ranks (data_parallel.h), their
// loss averaged over all their targets, gradient clipping on the summed gradient, the scheduled learning rate, the
// AdamW update — the same on every rank.
StepLog train_step(Communicator& comm, GradientReducer& reducer, LoraLlama& model, DataLoader& loader,
                   PagedAdamW& optimizer, const TrainerConfig& c, LrSchedule schedule, int64_t step,
                   int64_t num_steps, int64_t num_warmup) {
  const int64_t num_micro = c.gradient_accumulation_steps;
  std::vector<Batch> micro_batches;
  int64_t num_targets = 0;
  StepLog s;
  s.step = step + 1;
  s.num_steps = num_steps;
  for (int64_t i = 0; i < num_micro; ++i) {
    micro_batches.push_back(loader.next_batch());
    num_targets += micro_batches.back().num_targets;
    s.num_tokens += micro_batches.back().num_tokens;
  }
  std::vector<double> losses(num_micro, 0.0);
  reducer.begin_step(num_micro);
  for (int64_t round = 0; round < reducer.num_rounds(num_micro); ++round) {
    const int64_t i = reducer.micro_batch_of(round, num_micro);
    const bool has_gradient = i >= 0 && num_targets > 0;
    if (has_gradient) {
      set_zero(model.grads());
      losses[i] = model.forward_backward(micro_batches[i], c.seed, step, i, num_targets);
    }
    reducer.reduce_round(model.grads(), has_gradient);
  }
  if (num_targets == 0) set_zero(model.grads());
  reducer.finish_step(model.grads());
  s.loss = sum_slots_in_order(comm, std::move(losses));
  s.grad_norm = clip_grad_norm(parameter_tensors(model.grads()), parameter_sizes(model.grads()), c.max_grad_norm);
  s.lr = c.learning_rate * lr_multiplier(schedule, step, num_warmup, num_steps);
  std::vector<float*> grads = parameter_tensors(model.grads());
  optimizer.step(parameter_tensors(model.modules()), std::vector<const float*>(grads.begin(), grads.end()),
                 static_cast<float>(s.lr));
  return s;
}

}  // namespace

WeightLoadOptions training_load_options(const std::string& quantization, bool double_quant, bool is_dummy,
                                        uint64_t seed, const std::string& dense_dtype) {
  WeightLoadOptions load;
  load.dtype = dense_dtype;
  load.dummy = is_dummy;
  load.dummy_seed = seed;
  load.transform_linear = make_quantize_transform(quantization, double_quant);
  return load;
}

FinetuneResult run_finetune(const TrainerConfig& c, const TrainingTokenizer& tok) {
  check_config(c);
  // Under mpirun every rank runs this whole function (data_parallel.h); rank 0 alone touches the output folder.
  Communicator& comm = Communicator::world();
  const bool is_root = comm.is_root();
  struct TrainingComputeScope {
    ComputeDType previous = training_matmul_compute();
    ~TrainingComputeScope() { set_training_matmul_compute(previous); }
  } compute_scope;
  set_training_matmul_compute(c.bf16 ? ComputeDType::kBF16 : ComputeDType::kF32);
  const std::vector<int> targets = target_indices(c.target_modules);
  const LrSchedule schedule = parse_lr_schedule(c.lr_scheduler);
  const OptimizerChoice optim = parse_optimizer(c.optim);

  std::vector<TokenizedExample> train_examples = load_tokenized(c.data_path, c, tok);
  const std::vector<TokenizedExample> eval_examples =
      c.eval_data_path.empty() ? std::vector<TokenizedExample>{} : load_tokenized(c.eval_data_path, c, tok);
  check_same_examples(comm, train_examples, "training examples");
  check_same_examples(comm, eval_examples, "evaluation examples");
  DataLoader loader(std::move(train_examples), {c.batch_size, c.seed, c.group_by_length, tok.pad_id});
  const int64_t num_steps = total_steps(c, loader);

  const ModelWeights base =
      load_model_weights(c.model_dir, training_load_options(c.quantization, c.double_quant, c.is_dummy_weights, c.seed,
                                                       runs_bf16(c.bf16 ? ComputeDType::kBF16 : ComputeDType::kF32) ? "bfloat16" : "float32"));
  Rng rng(c.seed);
  LoraLlama model(base, init_lora_modules(module_specs(base, targets), c.lora_r, rng), c.lora_alpha / c.lora_r,
                  static_cast<float>(c.lora_dropout));
  model.set_gradient_checkpointing(c.gradient_checkpointing);
  if (is_root) make_dir(c.output_dir);
  if (is_root && comm.size() > c.gradient_accumulation_steps) {
    std::fprintf(stderr, "warning: %d ranks but %lld micro-batches per step: ranks %lld and above sit idle "
                 "(raise --gradient-accumulation-steps to a multiple of the rank count)\n", comm.size(),
                 static_cast<long long>(c.gradient_accumulation_steps),
                 static_cast<long long>(c.gradient_accumulation_steps));
  }
  // The other ranks spill their optimizer pages locally: the output folder may exist on rank 0's machine only.
  const std::string spill_dir = is_root ? c.output_dir : std::filesystem::temp_directory_path().string();
  const size_t budget = (!optim.is_paged || c.optimizer_memory == 0) ? std::numeric_limits<size_t>::max()
                                                                      : c.optimizer_memory;
  PagedAdamW optimizer(optim.kind, parameter_sizes(model.modules()),
                       {0.9f, 0.999f, 1e-8f, static_cast<float>(c.weight_decay)}, budget, spill_dir);

  const std::string checkpoint_dir = c.output_dir + "/" + kCheckpointDir;
  const std::string state_path = checkpoint_dir + "/" + kTrainingStateFile;
  if (is_root) remove_stale_checkpoint_files(c.output_dir, checkpoint_dir);
  // The checkpoint holds no per-rank state (data_parallel.h), so a run resumes with any rank count.
  TrainingProgress resumed;
  const bool has_checkpoint = is_root && c.resume && file_exists(state_path);
  if (has_checkpoint) resumed = load_checkpoint(state_path, model.modules(), optimizer);
  int64_t first_step = 0;
  if (broadcast_resume_state(comm, has_checkpoint, model.modules(), optimizer, resumed)) {
    first_step = resumed.step;
    rng.set_state(resumed.rng_state);
    loader.set_position(resumed.data);
  }
  std::optional<TrainingLog> log;
  if (is_root) log.emplace(c.output_dir + "/" + kLogFile, first_step);
  const bool shows_progress = is_root && c.show_progress;
  const int64_t num_warmup = warmup_steps_from_ratio(num_steps, c.warmup_ratio);
  ProgressBar progress_bar(first_step, num_steps);
  GradientReducer reducer(comm);
  FinetuneResult result;

  for (int64_t step = first_step; step < num_steps; ++step) {
    StepLog s = train_step(comm, reducer, model, loader, optimizer, c, schedule, step, num_steps, num_warmup);
    const bool is_last = step + 1 == num_steps;
    if (!eval_examples.empty() && ((c.eval_steps > 0 && s.step % c.eval_steps == 0) || is_last)) {
      s.eval_loss = evaluate(comm, model, eval_examples, c.batch_size, tok.pad_id);
    }
    if (log) log->append(s);
    progress_bar.update(s.step, s.loss, s.lr, s.num_tokens, shows_progress);
    if (c.save_steps > 0 && s.step % c.save_steps == 0 && !is_last) {
      check_replicas_agree(comm, model.modules());
      if (is_root) {
        save_checkpoint_dir(checkpoint_dir, model.modules(), optimizer, {s.step, rng.state(), loader.position()},
                            make_adapter(c, targets, model.modules()));
      }
    }
    result.steps.push_back(s);
    if (c.on_step) c.on_step(s);
  }
  progress_bar.finish(shows_progress);

  check_replicas_agree(comm, model.modules());
  if (is_root) save_peft_adapter(c.output_dir, make_adapter(c, targets, model.modules()));
  result.num_ranks = comm.size();
  if (!result.steps.empty()) {
    const double num_run = static_cast<double>(result.steps.size());
    result.all_reduce_bytes_per_step = static_cast<double>(reducer.reduced_bytes()) / num_run;
    result.all_reduce_seconds_per_step = reducer.reduce_seconds() / num_run;
  }
  if (!result.steps.empty()) result.final_eval_loss = result.steps.back().eval_loss;
  result.modules = model.modules();
  result.num_evictions = optimizer.store().num_evictions();
  result.num_page_ins = optimizer.store().num_page_ins();
  result.optimizer_state_bytes = optimizer.state_bytes();
  result.tokens_per_second = progress_bar.tokens_per_second();
  result.peak_resident_bytes = peak_resident_bytes();
  return result;
}

}  // namespace pagedllm
