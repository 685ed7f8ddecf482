#include "engine/engine_core.h"

#include <algorithm>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "engine/adapter_base.h"
#include "engine/kv_cache_sizing.h"
#include "engine/stop_strings.h"
#include "kernels/compute_dtype.h"
#include "sampling/sampler.h"
#include "util/error.h"
#include "util/json_limits.h"
#include "util/thread_pool.h"

namespace pagedllm {

using Clock = std::chrono::steady_clock;

struct SequenceState {
  std::shared_ptr<Request> request;
  RequestGroup* group = nullptr;
  int index = 0;
  Rng rng;
  std::unique_ptr<IncrementalDetokenizer> detokenizer;
  std::unique_ptr<ConstraintMatcher> matcher;  // structured outputs: this sample's position in the constraint
  std::string text;
  SampleLogprobs logprobs;
  double cumulative_logprob = 0.0;
  std::optional<std::string> finish_reason;
  std::variant<std::monostate, std::string, int32_t> stop_reason;
  size_t emitted_text = 0, emitted_tokens = 0, emitted_logprobs = 0;
};

struct RequestGroup {
  std::string request_id;
  std::string prompt;
  std::vector<int32_t> prompt_token_ids;
  SamplingParams params;
  std::shared_ptr<CompiledConstraint> constraint;  // structured outputs, shared by the n samples
  OutputKind kind = OutputKind::kFinalOnly;
  int lora_slot = 0;
  std::function<void(const RequestOutput&)> on_output;
  std::vector<std::unique_ptr<SequenceState>> sequences;  // one until the fork, then n
  bool forked = false;
  bool finished = false;
  Clock::time_point arrival, first_token, last_token;
  bool has_first_token = false;
};

namespace {

double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

Histogram make_histogram(std::vector<double> bounds) {
  Histogram h;
  h.counts.assign(bounds.size(), 0);
  h.bounds = std::move(bounds);
  return h;
}

void observe(Histogram& h, double value) {
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    if (value <= h.bounds[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += value;
}

std::string internal_id(const std::string& request_id, int index) {
  return index == 0 ? request_id : request_id + "#" + std::to_string(index);
}

// Each sample of a seeded request draws from its own generator, derived from the seed and its index only.
uint64_t sample_seed(uint64_t seed, int index) { return seed ^ (0x9e3779b97f4a7c15ULL * uint64_t(index + 1)); }

std::vector<int32_t> read_generation_eos(const std::string& model_dir) {
  std::vector<int32_t> ids;
  const std::string path = model_dir + "/generation_config.json";
  if (!file_exists(path)) return ids;
  const std::string text = read_text_file(path);
  if (std::optional<std::string> problem = find_json_text_problem(text)) {
    throw_error(ErrorKind::kCorrupt, "{}: not acceptable JSON: {}", path, *problem);
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("eos_token_id")) return ids;
  const auto& e = j["eos_token_id"];
  if (e.is_number_integer()) ids.push_back(e.get<int32_t>());
  if (e.is_array()) {
    for (auto& v : e) {
      if (v.is_number_integer()) ids.push_back(v.get<int32_t>());
    }
  }
  return ids;
}

}  // namespace

EngineCore::EngineCore(const EngineArgs& engine_args) : args_(engine_args), seed_rng_(engine_args.seed) {
  for (const std::string& note : match_base_to_adapters(args_)) std::cerr << note << "\n";
  const EngineArgs& args = args_;
  if (args.num_threads > 0) set_num_threads(args.num_threads);
  // --dtype float32 asks for fp32 arithmetic too: quantized layers' many-row products then skip the bf16 GEMM.
  if (args.dtype == "float32") set_matmul_compute(ComputeDType::kF32);
  if (args.load_format != "auto" && args.load_format != "dummy" && args.load_format != "safetensors") {
    throw_error(ErrorKind::kInvalidArgument, "--load-format must be auto, safetensors or dummy, got '{}'", args.load_format);
  }
  if (args.block_size < 1 || args.block_size > 1024) throw_error(ErrorKind::kInvalidArgument, "--block-size must be in [1, 1024], got {}", args.block_size);
  if (args.max_num_seqs < 1) throw_error(ErrorKind::kInvalidArgument, "--max-num-seqs must be at least 1, got {}", args.max_num_seqs);
  tokenizer_ = Tokenizer::from_path(args.tokenizer.empty() ? args.model : args.tokenizer);

  model_ = std::make_unique<LlamaModel>(load_model_weights(args.model, weight_load_options(args)));
  const ModelConfig& config = model_->config();

  max_model_len_ = args.max_model_len > 0 ? args.max_model_len : config.max_position_embeddings;
  if (max_model_len_ < 1) throw_error(ErrorKind::kInvalidArgument, "--max-model-len must be positive");
  num_kv_blocks_ = choose_num_kv_blocks(args, config, max_model_len_);

  for (int id : config.eos_token_ids) eos_token_ids_.push_back(id);
  for (int32_t id : read_generation_eos(args.model)) eos_token_ids_.push_back(id);
  if (auto eos = tokenizer_->eos_token_id()) eos_token_ids_.push_back(*eos);
  std::sort(eos_token_ids_.begin(), eos_token_ids_.end());
  eos_token_ids_.erase(std::unique(eos_token_ids_.begin(), eos_token_ids_.end()), eos_token_ids_.end());

  for (const auto& [name, dir] : args.loras) {
    if (int(loras_.names().size()) >= args.max_loras) throw_error(ErrorKind::kInvalidArgument, "more LoRA adapters than --max-loras={}", args.max_loras);
    loras_.add(load_served_adapter(name, dir, config, args.max_lora_rank));
  }
  if (!loras_.empty()) model_->set_lora_manager(&loras_);

  kv_cache_ = std::make_unique<PagedKVCache>(config, num_kv_blocks_, args.block_size);
  kv_manager_ = std::make_unique<KVCacheManager>(num_kv_blocks_, args.block_size, args.enable_prefix_caching);
  SchedulerConfig sc;
  sc.max_num_seqs = args.max_num_seqs;
  sc.max_model_len = max_model_len_;
  sc.enable_chunked_prefill = args.enable_chunked_prefill;
  sc.max_num_batched_tokens = args.max_num_batched_tokens > 0 ? args.max_num_batched_tokens
                              : args.enable_chunked_prefill ? 2048 : std::max(2048, max_model_len_);
  if (!args.enable_chunked_prefill && sc.max_num_batched_tokens < max_model_len_) {
    throw_error(ErrorKind::kInvalidArgument, "--max-num-batched-tokens ({}) is smaller than --max-model-len ({}) without chunked prefill", sc.max_num_batched_tokens, max_model_len_);
  }
  sc.block_size = args.block_size;
  sc.enable_prefix_caching = args.enable_prefix_caching;
  scheduler_ = std::make_unique<Scheduler>(sc, *kv_manager_);
  runner_ = std::make_unique<ModelRunner>(*model_, *kv_cache_);

  const std::vector<double> latency = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0};
  stats_.time_to_first_token_seconds = make_histogram(latency);
  stats_.inter_token_latency_seconds = make_histogram(latency);
  stats_.e2e_request_latency_seconds = make_histogram({0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0});
}

EngineCore::~EngineCore() = default;

void EngineCore::add_lora(const std::string& name, const std::string& dir) {
  if (int(loras_.names().size()) >= args_.max_loras) throw_error(ErrorKind::kInvalidArgument, "more LoRA adapters than --max-loras={}", args_.max_loras);
  LoraAdapter adapter = load_served_adapter(name, dir, model_->config(), args_.max_lora_rank);
  // The base is loaded already: an adapter trained over another format can only be warned about.
  const std::string served = args_.quantization.empty() ? "none" : args_.quantization;
  if (!adapter.base_quantization.empty() && adapter.base_quantization != served) {
    std::cerr << fmt::format("WARNING:  LoRA adapter '{}' was trained over a {} base but the base is served as {}; "
                             "its answers may differ from training\n", name, adapter.base_quantization, served);
  }
  loras_.add(std::move(adapter));
  model_->set_lora_manager(&loras_);
}

int64_t EngineCore::kv_capacity_tokens() const { return int64_t(num_kv_blocks_) * args_.block_size; }

void EngineCore::add_request(const std::string& request_id, const PromptInput& prompt, const SamplingParams& params,
                             OutputKind kind, const std::string& lora_name,
                             std::function<void(const RequestOutput&)> on_output) {
  params.validate();
  if (groups_.count(request_id)) throw_error(ErrorKind::kInvalidArgument, "request id '{}' is already in use", request_id);
  if (args_.max_queued_requests > 0 && scheduler_->num_waiting() >= args_.max_queued_requests) {
    throw_error(ErrorKind::kResourceExhausted, "the waiting queue is full ({} requests)", args_.max_queued_requests);
  }
  auto group = std::make_unique<RequestGroup>();
  group->request_id = request_id;
  group->prompt = prompt.text;
  group->prompt_token_ids = prompt.token_ids.empty() ? tokenizer_->encode(prompt.text, prompt.add_special_tokens) : prompt.token_ids;
  const auto& ids = group->prompt_token_ids;
  if (ids.empty()) throw_error(ErrorKind::kInvalidArgument, "the prompt is empty (it must contain at least one token)");
  for (int32_t t : ids) {
    if (t < 0 || t >= model_->config().vocab_size) throw_error(ErrorKind::kInvalidArgument, "prompt token id {} is outside the vocabulary (size {})", t, model_->config().vocab_size);
  }
  const int64_t total = int64_t(ids.size()) + params.max_tokens;
  if (total > max_model_len_) {
    throw_error(ErrorKind::kInvalidArgument,
                "This model's maximum context length is {} tokens. However, you requested {} tokens ({} in the messages, {} in the completion). Please reduce the length of the messages or completion.",
                max_model_len_, total, ids.size(), params.max_tokens);
  }
  if (total > kv_capacity_tokens()) {
    throw_error(ErrorKind::kInvalidArgument, "the request needs {} tokens of KV cache but the cache holds only {}", total, kv_capacity_tokens());
  }
  for (const auto& [token, bias] : params.logit_bias) {
    if (token < 0 || token >= model_->config().vocab_size) throw_error(ErrorKind::kInvalidArgument, "logit_bias token id {} is outside the vocabulary", token);
  }
  group->params = params;
  if (params.structured_outputs) {
    group->constraint = params.structured_outputs->compiled ? params.structured_outputs->compiled
                                                            : structured_outputs().compile(*params.structured_outputs);
  }
  group->kind = kind;
  group->lora_slot = loras_.slot_of(lora_name);
  group->on_output = std::move(on_output);
  group->arrival = Clock::now();

  auto seq = std::make_unique<SequenceState>();
  seq->group = group.get();
  seq->rng.reseed(params.seed ? sample_seed(*params.seed, 0) : seed_rng_.next_u64());
  seq->detokenizer = std::make_unique<IncrementalDetokenizer>(*tokenizer_, ids, params.skip_special_tokens);
  if (group->constraint) seq->matcher = std::make_unique<ConstraintMatcher>(group->constraint);
  auto request = std::make_shared<Request>();
  request->request_id = internal_id(request_id, 0);
  request->arrival_seq = next_arrival_seq_++;
  request->prompt_token_ids = ids;
  request->max_tokens = params.max_tokens;
  request->lora_id = group->lora_slot;
  seq->request = request;
  sequences_[request->request_id] = seq.get();
  group->sequences.push_back(std::move(seq));
  stats_.prompt_tokens_total += ids.size();
  scheduler_->add_request(request);
  groups_[request_id] = std::move(group);
}

bool EngineCore::has_unfinished_requests() const { return !groups_.empty(); }

StructuredOutputCompiler& EngineCore::structured_outputs() {
  std::call_once(structured_outputs_once_, [this] {
    auto vocabulary = std::make_shared<TokenVocabulary>(*tokenizer_, model_->config().vocab_size, eos_token_ids_);
    structured_outputs_ = std::make_unique<StructuredOutputCompiler>(std::move(vocabulary), 64, args_.structured_max_recursion_depth);
  });
  return *structured_outputs_;
}

std::vector<int32_t> EngineCore::suppressed_tokens(const SequenceState& seq) const {
  const SamplingParams& p = seq.group->params;
  if (int(seq.request->output_token_ids.size()) >= p.min_tokens) return {};
  std::vector<int32_t> out = p.stop_token_ids;
  if (!p.ignore_eos) out.insert(out.end(), eos_token_ids_.begin(), eos_token_ids_.end());
  return out;
}

// The text a token adds after `previous`: decoding it alone would drop a SentencePiece word's leading space, so
// it is decoded in context and the context's own text removed (the tokens then join back to the output text).
std::string EngineCore::token_text(int32_t previous, int32_t token) const {
  const std::string context = tokenizer_->decode(std::vector<int32_t>{previous}, false);
  const std::string both = tokenizer_->decode(std::vector<int32_t>{previous, token}, false);
  if (both.compare(0, context.size(), context) == 0) return both.substr(context.size());
  return tokenizer_->decode(std::vector<int32_t>{token}, false);
}

void EngineCore::process_token(SequenceState& seq, int32_t token, const SampledToken& sampled) {
  RequestGroup& g = *seq.group;
  const SamplingParams& p = g.params;
  Request& r = *seq.request;
  if (p.logprobs) {
    // The sampled token is already appended to the request's output; its predecessor is the one before it.
    const auto& out_ids = r.output_token_ids;
    const int32_t previous = out_ids.size() >= 2 ? out_ids[out_ids.size() - 2] : r.prompt_token_ids.back();
    std::map<int32_t, Logprob> entry;
    for (size_t i = 0; i < sampled.top_logprobs.size(); ++i) {
      auto [id, lp] = sampled.top_logprobs[i];
      entry[id] = Logprob{lp, int(i) + 1, token_text(previous, id)};
    }
    entry[token] = Logprob{sampled.logprob, sampled.rank, token_text(previous, token)};
    seq.logprobs.push_back(std::move(entry));
    seq.cumulative_logprob += sampled.logprob;
  }
  ++stats_.generation_tokens_total;
  if (seq.matcher) seq.matcher->accept_token(token);
  const size_t num_output = r.output_token_ids.size();
  const bool min_reached = int(num_output) >= p.min_tokens;

  const bool is_eos = !p.ignore_eos && std::binary_search(eos_token_ids_.begin(), eos_token_ids_.end(), token);
  const bool is_stop_token = std::find(p.stop_token_ids.begin(), p.stop_token_ids.end(), token) != p.stop_token_ids.end();
  // A stop or EOS token ends the text without adding itself to it (it is a special token).
  if (min_reached && (is_eos || is_stop_token)) {
    seq.text += seq.detokenizer->flush();
    seq.finish_reason = "stop";
    if (is_stop_token && !is_eos) seq.stop_reason = token;
    return;
  }
  std::string delta = seq.detokenizer->add(token);
  seq.text += delta;
  if (min_reached && !p.stop.empty() && !delta.empty()) {
    if (auto match = find_stop_string(seq.text, delta.size(), p.stop, p.include_stop_str_in_output)) {
      seq.text.resize(match->truncate_to);
      seq.finish_reason = "stop";
      seq.stop_reason = match->stop;
      return;
    }
  }
  // A complete structure that nothing but EOS may follow ends here, as if EOS had been sampled.
  const bool structure_done = seq.matcher && seq.matcher->is_terminated() && min_reached;
  if (structure_done || int(num_output) >= p.max_tokens || r.num_tokens() >= max_model_len_) {
    seq.text += seq.detokenizer->flush();
    seq.finish_reason = structure_done ? "stop" : "length";
  }
}

void EngineCore::fork_group(RequestGroup& g, SequenceState& parent, float* logits) {
  g.forked = true;
  const int vocab = model_->config().vocab_size;
  std::vector<float> scratch(vocab);
  for (int i = 1; i < g.params.n; ++i) {
    auto seq = std::make_unique<SequenceState>();
    seq->group = &g;
    seq->index = i;
    seq->rng.reseed(g.params.seed ? sample_seed(*g.params.seed, i) : seed_rng_.next_u64());
    seq->detokenizer = std::make_unique<IncrementalDetokenizer>(*tokenizer_, g.prompt_token_ids, g.params.skip_special_tokens);
    // The fork happens at the first sample, so every child starts where the parent started.
    if (g.constraint) seq->matcher = std::make_unique<ConstraintMatcher>(g.constraint);
    auto child = std::make_shared<Request>();
    child->request_id = internal_id(g.request_id, i);
    child->arrival_seq = parent.request->arrival_seq;
    child->prompt_token_ids = g.prompt_token_ids;
    child->max_tokens = g.params.max_tokens;
    child->lora_id = g.lora_slot;
    seq->request = child;

    std::copy_n(logits, vocab, scratch.data());
    SamplingContext ctx{&g.params, g.prompt_token_ids, {}, {}, &seq->rng};
    std::vector<int32_t> suppressed = g.params.min_tokens > 0 ? suppressed_tokens(*seq) : std::vector<int32_t>{};
    ctx.suppressed_token_ids = suppressed;
    if (seq->matcher) ctx.allowed_token_mask = seq->matcher->allowed_tokens();
    SampledToken sampled = sample_token(scratch.data(), vocab, ctx);
    child->output_token_ids.push_back(sampled.token_id);
    scheduler_->fork_request(parent.request->request_id, child);
    sequences_[child->request_id] = seq.get();
    SequenceState& s = *seq;
    g.sequences.push_back(std::move(seq));
    process_token(s, sampled.token_id, sampled);
  }
}

void EngineCore::sample_and_process(const SchedulerOutput& output, const std::vector<int>& sample_rows) {
  const int vocab = model_->config().vocab_size;
  std::map<std::string, std::vector<int32_t>> sampled_tokens;
  std::vector<std::pair<SequenceState*, SampledToken>> sampled;
  std::vector<float> parent_logits;
  std::vector<std::pair<SequenceState*, std::vector<float>>> to_fork;
  for (size_t s = 0; s < output.scheduled.size(); ++s) {
    if (sample_rows[s] < 0) continue;
    SequenceState& seq = *sequences_.at(output.scheduled[s].request->request_id);
    RequestGroup& g = *seq.group;
    float* logits = runner_->logits_row(sample_rows[s]);
    if (g.params.n > 1 && !g.forked) to_fork.emplace_back(&seq, std::vector<float>(logits, logits + vocab));
    std::vector<int32_t> suppressed = suppressed_tokens(seq);
    SamplingContext ctx{&g.params, seq.request->prompt_token_ids, seq.request->output_token_ids, suppressed, &seq.rng};
    if (seq.matcher) ctx.allowed_token_mask = seq.matcher->allowed_tokens();
    SampledToken token = sample_token(logits, vocab, ctx);
    sampled_tokens[seq.request->request_id].push_back(token.token_id);
    sampled.emplace_back(&seq, std::move(token));
  }
  scheduler_->update_from_output(output, sampled_tokens);

  const auto now = Clock::now();
  std::vector<RequestGroup*> touched;
  for (auto& [seq, token] : sampled) {
    RequestGroup& g = *seq->group;
    if (!g.has_first_token) {
      g.has_first_token = true;
      g.first_token = now;
      observe(stats_.time_to_first_token_seconds, seconds_between(g.arrival, now));
    } else if (seq->index == 0) {
      observe(stats_.inter_token_latency_seconds, seconds_between(g.last_token, now));
    }
    if (seq->index == 0) g.last_token = now;
    process_token(*seq, token.token_id, token);
    if (std::find(touched.begin(), touched.end(), &g) == touched.end()) touched.push_back(&g);
  }
  for (auto& [seq, logits] : to_fork) fork_group(*seq->group, *seq, logits.data());

  std::vector<std::string> finished_ids;
  for (RequestGroup* g : touched) {
    for (auto& seq : g->sequences) {
      if (seq->finish_reason && !seq->request->is_finished()) finished_ids.push_back(seq->request->request_id);
    }
  }
  // Stop conditions found by the engine (stop strings, EOS, length) end the sequences in the scheduler too.
  std::vector<std::string> stopped, capped;
  for (const auto& id : finished_ids) {
    (*sequences_.at(id)->finish_reason == "length" ? capped : stopped).push_back(id);
  }
  if (!stopped.empty()) scheduler_->finish_requests(stopped, RequestStatus::kFinishedStopped);
  if (!capped.empty()) scheduler_->finish_requests(capped, RequestStatus::kFinishedLengthCapped);
  for (RequestGroup* g : touched) emit(*g);
  for (RequestGroup* g : touched) finish_group_if_done(*g);
}

void EngineCore::emit(RequestGroup& g) {
  bool all_finished = g.forked || g.params.n == 1;
  for (auto& seq : g.sequences) all_finished &= seq->finish_reason.has_value();
  g.finished = all_finished;
  if (g.kind == OutputKind::kFinalOnly && !all_finished) return;
  RequestOutput out;
  out.request_id = g.request_id;
  out.prompt = g.prompt;
  out.prompt_token_ids = g.prompt_token_ids;
  out.finished = all_finished;
  const size_t holdback = stop_holdback_bytes(g.params.stop, g.params.include_stop_str_in_output);
  for (auto& seq : g.sequences) {
    CompletionOutput c;
    c.index = seq->index;
    const auto& tokens = seq->request->output_token_ids;
    size_t visible = seq->finish_reason ? seq->text.size()
                                        : utf8_safe_prefix(seq->text, seq->text.size() > holdback ? seq->text.size() - holdback : 0);
    visible = std::max(visible, std::min(seq->emitted_text, seq->text.size()));
    const bool delta = g.kind == OutputKind::kDelta;
    c.text = seq->text.substr(delta ? seq->emitted_text : 0, visible - (delta ? std::min(seq->emitted_text, visible) : 0));
    c.token_ids.assign(tokens.begin() + (delta ? seq->emitted_tokens : 0), tokens.end());
    if (g.params.logprobs) c.logprobs = SampleLogprobs(seq->logprobs.begin() + (delta ? seq->emitted_logprobs : 0), seq->logprobs.end());
    c.cumulative_logprob = seq->cumulative_logprob;
    c.finish_reason = seq->finish_reason;
    c.stop_reason = seq->stop_reason;
    seq->emitted_text = visible;
    seq->emitted_tokens = tokens.size();
    seq->emitted_logprobs = seq->logprobs.size();
    // A delta output carries only sequences with something new (or that just finished).
    if (delta && c.text.empty() && c.token_ids.empty() && !c.finish_reason) continue;
    out.outputs.push_back(std::move(c));
  }
  std::sort(out.outputs.begin(), out.outputs.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  if (g.on_output) g.on_output(out);
}

void EngineCore::finish_group_if_done(RequestGroup& g) {
  if (!g.finished) return;
  const auto now = Clock::now();
  observe(stats_.e2e_request_latency_seconds, seconds_between(g.arrival, now));
  for (auto& seq : g.sequences) {
    ++stats_.request_success_total[*seq->finish_reason];
    sequences_.erase(seq->request->request_id);
  }
  groups_.erase(g.request_id);
}

void EngineCore::abort_request(const std::string& request_id) {
  auto it = groups_.find(request_id);
  if (it == groups_.end()) return;
  RequestGroup& g = *it->second;
  std::vector<std::string> ids;
  for (auto& seq : g.sequences) {
    if (!seq->finish_reason) {
      seq->finish_reason = "abort";
      ids.push_back(seq->request->request_id);
    }
  }
  scheduler_->finish_requests(ids, RequestStatus::kFinishedAborted);
  // A group aborted before its fork still reports its n samples as aborted.
  g.forked = true;
  emit(g);
  finish_group_if_done(g);
}

void EngineCore::abort_all() {
  std::vector<std::string> ids;
  for (const auto& [id, group] : groups_) ids.push_back(id);
  for (const auto& id : ids) abort_request(id);
}

void EngineCore::step() {
  SchedulerOutput output = scheduler_->schedule();
  stats_.num_preemptions_total = scheduler_->num_preemptions_total();
  if (output.scheduled.empty()) return;
  std::vector<int> lora_slots;
  if (!loras_.empty()) {
    for (const auto& s : output.scheduled) lora_slots.push_back(s.request->lora_id);
  }
  const std::vector<int>& rows = runner_->execute(output, lora_slots);
  peak_blocks_used_ = std::max(peak_blocks_used_, num_kv_blocks_ - kv_manager_->num_free_blocks());
  sample_and_process(output, rows);
}

int EngineCore::num_free_kv_blocks() const { return kv_manager_->num_free_blocks(); }

void EngineCore::reset_prefix_cache() { kv_manager_->reset_prefix_cache(); }

EngineStats EngineCore::stats() const {
  EngineStats s = stats_;
  s.num_requests_running = scheduler_->num_running();
  s.num_requests_waiting = scheduler_->num_waiting();
  s.kv_cache_usage = kv_manager_->usage();
  s.num_preemptions_total = scheduler_->num_preemptions_total();
  s.prefix_cache_queries_total = kv_manager_->prefix_cache_stats().num_query_tokens;
  s.prefix_cache_hits_total = kv_manager_->prefix_cache_stats().num_hit_tokens;
  return s;
}

}  // namespace pagedllm
