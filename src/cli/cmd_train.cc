// `pagedllm finetune` (QLoRA / LoRA training into a PEFT adapter) and `pagedllm merge` (an adapter folded into
// its base). The training itself lives in src/train; this file maps flags and binds the model's tokenizer.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/chat_template_flag.h"
#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "cli/model_folder.h"
#include "cli/training_tokenizer.h"
#include "cli/quantized_model_writer.h"
#include "dist/communicator.h"
#include "tokenizer/tokenizer.h"
#include "train/merge_adapter.h"
#include "train/trainer.h"
#include "kernels/cpu_features.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

struct FinetuneFlags {
  TrainerConfig config;
  std::string tokenizer;
  std::string load_format = "auto";
  std::string target_modules = "all";
  std::string chat_template;  // a file or inline text; empty: the tokenizer's own
  int num_threads = 0;
  bool is_quiet = false;
};

// The comma-separated list of --lora-target-modules.
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t end = std::min(text.find(',', begin), text.size());
    if (end > begin) out.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return out;
}

// `chat_template` (the --chat-template text) replaces the tokenizer's own template; both may be absent when the
// data has no "messages" lines. Under mpirun every rank runs this (data parallelism); rank 0 alone prints.
void finetune(FinetuneFlags f) {
  if (f.num_threads > 0) set_num_threads(f.num_threads);
  if (f.load_format != "auto" && f.load_format != "dummy") {
    throw_error(ErrorKind::kInvalidArgument, "--load-format must be auto or dummy, got {}", f.load_format);
  }
  TrainerConfig& c = f.config;
  check_model_folder(c.model_dir);
  const std::string chat_template = f.chat_template.empty() ? "" : read_chat_template_flag(f.chat_template);
  c.is_dummy_weights = f.load_format == "dummy";
  c.target_modules = split_list(f.target_modules);
  c.show_progress = !f.is_quiet;
  std::shared_ptr<const Tokenizer> tokenizer = Tokenizer::from_path(f.tokenizer.empty() ? c.model_dir : f.tokenizer);
  const FinetuneResult r = run_finetune(c, bind_tokenizer(tokenizer, chat_template));
  if (!Communicator::world().is_root()) return;
  std::cout << fmt::format("adapter written to {}\n", c.output_dir);
  if (!r.steps.empty()) std::cout << fmt::format("final loss {:.6f}\n", r.steps.back().loss);
  if (r.final_eval_loss) std::cout << fmt::format("final eval loss {:.6f}\n", *r.final_eval_loss);
  std::cout << fmt::format("tokens/s {:.1f}, peak resident memory {:.1f} MiB\n", r.tokens_per_second,
                           r.peak_resident_bytes / 1048576.0);
  std::cout << fmt::format("optimizer state {} bytes, page evictions {}, page-ins {}\n", r.optimizer_state_bytes,
                           r.num_evictions, r.num_page_ins);
  if (r.num_ranks > 1) {
    std::cout << fmt::format("data parallel: {} ranks, gradient all-reduce {:.2f} MiB and {:.1f} ms per step\n",
                             r.num_ranks, r.all_reduce_bytes_per_step / 1048576.0,
                             r.all_reduce_seconds_per_step * 1e3);
  }
}

// A rank that fails ends the whole run at once (MPI_Abort), so that the others do not wait in a collective.
void run_finetune_command(const FinetuneFlags& f) {
  try {
    finetune(f);
  } catch (const std::exception& e) {
    Communicator& comm = Communicator::world();
    if (comm.size() == 1) throw;
    const auto* error = dynamic_cast<const Error*>(&e);
    comm.abort(1, fmt::format("error ({}): {}", error != nullptr ? error_kind_name(error->kind()) : "internal",
                              e.what()));
  }
}

void add_finetune_command(CLI::App& app) {
  auto flags = std::make_shared<FinetuneFlags>();
  TrainerConfig& c = flags->config;
  CLI::App* cmd = app.add_subcommand("finetune", "train a LoRA adapter (QLoRA over a 4-bit base by default)");
  cmd->add_option("--model", c.model_dir, "Hugging Face model folder")->required();
  cmd->add_option("--data", c.data_path, "training data, JSON lines (alpaca, prompt/completion, messages, text)")
      ->required();
  cmd->add_option("--output", c.output_dir, "adapter folder to write")->required();
  cmd->add_option("--tokenizer", flags->tokenizer, "tokenizer folder (default: the model folder)");
  cmd->add_option("--load-format", flags->load_format, "auto | dummy (random base weights, for benchmarks)");
  cmd->add_option("--chat-template", flags->chat_template,
                  "Jinja template (file or inline) for \"messages\" data (default: the tokenizer's)");
  cmd->add_option("--quantization,-q", c.quantization, "base format: nf4 | fp4 | int4 | none")->capture_default_str();
  add_switch(*cmd, "double-quant", c.double_quant, "double quantization");
  cmd->add_option("--lora-r", c.lora_r, "LoRA rank")->capture_default_str();
  cmd->add_option("--lora-alpha", c.lora_alpha, "LoRA alpha")->capture_default_str();
  cmd->add_option("--lora-dropout", c.lora_dropout, "LoRA dropout")->capture_default_str();
  cmd->add_option("--lora-target-modules", flags->target_modules, "all | q_proj,k_proj,...")->capture_default_str();
  cmd->add_option("--learning-rate", c.learning_rate, "peak learning rate")->capture_default_str();
  cmd->add_option("--lr-scheduler", c.lr_scheduler, "constant | constant_with_warmup | linear | cosine")
      ->capture_default_str();
  cmd->add_option("--warmup-ratio", c.warmup_ratio, "warmup steps / total steps")->capture_default_str();
  cmd->add_option("--max-grad-norm", c.max_grad_norm, "gradient clipping (0: off)")->capture_default_str();
  cmd->add_option("--weight-decay", c.weight_decay, "AdamW decoupled weight decay")->capture_default_str();
  cmd->add_option("--batch-size", c.batch_size, "examples per micro-batch")->capture_default_str();
  cmd->add_option("--gradient-accumulation-steps", c.gradient_accumulation_steps, "micro-batches per step")
      ->capture_default_str();
  cmd->add_option("--max-steps", c.max_steps, "optimizer steps (overrides --epochs)");
  cmd->add_option("--epochs", c.epochs, "passes over the data")->capture_default_str();
  cmd->add_option("--max-seq-len", c.max_seq_len, "tokens per example (longer ones are truncated)")
      ->capture_default_str();
  cmd->add_flag("--train-on-source", c.train_on_source, "also take the loss on the prompt tokens");
  cmd->add_flag("--group-by-length", c.group_by_length, "batch examples of similar length");
  add_switch(*cmd, "gradient-checkpointing", c.gradient_checkpointing, "recompute block activations in backward");
  c.bf16 = has_avx512_bf16();
  add_switch(*cmd, "bf16", c.bf16,
             "products in bf16 with fp32 accumulation, dense base weights in bf16 (on where the CPU has AVX512-BF16)");
  cmd->add_option("--optim", c.optim, "paged_adamw_32bit | paged_adamw_8bit | adamw")->capture_default_str();
  cmd->add_option("--optimizer-memory", c.optimizer_memory, "resident bytes of the paged optimizer state (0: all)");
  cmd->add_option("--save-steps", c.save_steps, "checkpoint every N steps (0: never)");
  cmd->add_option("--eval-data", c.eval_data_path, "evaluation data, JSON lines");
  cmd->add_option("--eval-steps", c.eval_steps, "evaluate every N steps (and at the end)");
  cmd->add_option("--seed", c.seed, "seed of the adapter init, data order and dropout")->capture_default_str();
  cmd->add_flag("--resume", c.resume, "continue from OUTPUT/checkpoint when present");
  cmd->add_option("--num-threads", flags->num_threads, "compute threads (default: all cores)");
  cmd->add_flag("--quiet", flags->is_quiet, "no progress bar");
  cmd->callback([flags] { run_finetune_command(*flags); });
}

struct MergeCommand {
  MergeOptions merge;
  std::string output_quantization;  // empty: F32
  bool output_double_quant = true;
};

void run_merge(MergeCommand c) {
  namespace fs = std::filesystem;
  check_model_folder(c.merge.model_dir);
  c.merge.adapter_dir = parse_lora_arg(c.merge.adapter_dir).second;
  if (c.output_quantization.empty()) {
    merge_adapter(c.merge);
    std::cout << fmt::format("merged model written to {}\n", c.merge.output_dir);
    return;
  }
  if (c.output_quantization != "nf4" && c.output_quantization != "fp4") {
    throw_error(ErrorKind::kUnsupported, "--quantization {}: only nf4 and fp4 have a bitsandbytes serialization",
                c.output_quantization);
  }
  // Merge in F32 next to the output, then re-quantize that folder into the output.
  MergeOptions f32 = c.merge;
  f32.output_dir = c.merge.output_dir + ".merged-f32.tmp";
  fs::remove_all(f32.output_dir);
  merge_adapter(f32);
  EngineArgs args;
  args.model = f32.output_dir;
  args.quantization = c.output_quantization;
  args.double_quant = c.output_double_quant;
  try {
    write_bnb_quantized_model(args, c.merge.output_dir);
  } catch (...) {
    fs::remove_all(f32.output_dir);
    throw;
  }
  fs::remove_all(f32.output_dir);
  std::cout << fmt::format("merged model written to {} ({})\n", c.merge.output_dir, c.output_quantization);
}

void add_merge_command(CLI::App& app) {
  auto c = std::make_shared<MergeCommand>();
  CLI::App* cmd = app.add_subcommand(
      "merge", "fold a LoRA adapter into its base model (F32 model folder, or 4-bit with --quantization)");
  cmd->add_option("--model", c->merge.model_dir, "base model folder")->required();
  cmd->add_option("--lora", c->merge.adapter_dir, "PEFT adapter folder, DIR or NAME=DIR as generate and serve take it")
      ->required();
  cmd->add_option("--output", c->merge.output_dir, "merged model folder to write")->required();
  cmd->add_option("--quantization,-q", c->output_quantization,
                  "re-quantize the merged model: nf4 | fp4 (bitsandbytes serialization; default: F32)");
  add_switch(*cmd, "double-quant", c->output_double_quant, "with --quantization");
  cmd->add_option("--base-quantization", c->merge.quantization,
                  "format the adapter was trained against (none | nf4 | fp4 | int4; default: from the adapter)");
  add_switch(*cmd, "base-double-quant", c->merge.double_quant, "with --base-quantization");
  cmd->callback([c] { run_merge(*c); });
}

}  // namespace

void add_train_commands(CLI::App& app) {
  add_finetune_command(app);
  add_merge_command(app);
}

}  // namespace pagedllm
