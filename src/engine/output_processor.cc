#include "engine/output_processor.h"

#include <algorithm>

#include "engine/stop_strings.h"
#include "tokenizer/incremental_detokenizer.h"
#include "util/error.h"

namespace pagedllm {

using Clock = std::chrono::steady_clock;

struct OutputProcessor::SampleState {
  int index = 0;
  std::unique_ptr<IncrementalDetokenizer> detokenizer;
  std::vector<int32_t> token_ids;  // this sample's output so far
  std::string text;
  SampleLogprobs logprobs;
  double cumulative_logprob = 0.0;
  std::optional<FinishReason> finish_reason;
  std::variant<std::monostate, std::string, int32_t> stop_reason;
  // What earlier outputs carried already (OutputKind::kDelta sends the rest).
  size_t emitted_text = 0, emitted_tokens = 0, emitted_logprobs = 0;
};

struct OutputProcessor::RequestState {
  std::string request_id;
  std::string prompt;
  std::vector<int32_t> prompt_token_ids;
  SamplingParams params;
  OutputKind kind = OutputKind::kFinalOnly;
  std::function<void(const RequestOutput&)> on_output;
  std::vector<std::unique_ptr<SampleState>> samples;  // by index
  bool all_samples_added = false;
  Clock::time_point arrival, last_token;
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

}  // namespace

OutputProcessor::OutputProcessor(const Tokenizer& tokenizer, std::vector<int32_t> eos_token_ids, int max_model_len)
    : tokenizer_(tokenizer), eos_token_ids_(std::move(eos_token_ids)), max_model_len_(max_model_len) {
  PAGEDLLM_CHECK(std::is_sorted(eos_token_ids_.begin(), eos_token_ids_.end()));
  // vLLM's buckets.
  const std::vector<double> latency = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5,
                                       0.75,  1.0,   2.5,  5.0,  7.5,  10.0, 20.0, 40.0, 80.0};
  stats_.time_to_first_token_seconds = make_histogram(latency);
  stats_.inter_token_latency_seconds = make_histogram(latency);
  stats_.e2e_request_latency_seconds = make_histogram({0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0,
                                                       40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0});
}

OutputProcessor::~OutputProcessor() = default;

OutputProcessor::RequestState& OutputProcessor::state(const std::string& request_id) {
  auto it = requests_.find(request_id);
  PAGEDLLM_CHECK_MSG(it != requests_.end(), "output processor: unknown request {}", request_id);
  return *it->second;
}

void OutputProcessor::add_request(const std::string& request_id, std::string prompt,
                                  std::vector<int32_t> prompt_token_ids, const SamplingParams& params,
                                  OutputKind kind, std::function<void(const RequestOutput&)> on_output) {
  PAGEDLLM_CHECK_MSG(!requests_.contains(request_id), "output processor: request {} added twice", request_id);
  auto request = std::make_unique<RequestState>();
  request->request_id = request_id;
  request->prompt = std::move(prompt);
  request->prompt_token_ids = std::move(prompt_token_ids);
  request->params = params;
  request->kind = kind;
  request->on_output = std::move(on_output);
  request->arrival = Clock::now();
  request->all_samples_added = params.n == 1;
  stats_.prompt_tokens_total += request->prompt_token_ids.size();
  RequestState& r = *request;
  requests_[request_id] = std::move(request);
  add_sample(request_id, 0);
  (void)r;
}

void OutputProcessor::add_sample(const std::string& request_id, int index) {
  RequestState& r = state(request_id);
  PAGEDLLM_CHECK(index == static_cast<int>(r.samples.size()));
  auto sample = std::make_unique<SampleState>();
  sample->index = index;
  sample->detokenizer =
      std::make_unique<IncrementalDetokenizer>(tokenizer_, r.prompt_token_ids, r.params.skip_special_tokens);
  r.samples.push_back(std::move(sample));
}

void OutputProcessor::mark_all_samples_added(const std::string& request_id) { state(request_id).all_samples_added = true; }

// The text a token adds after `previous`: decoding it alone would drop a SentencePiece word's leading space, so
// it is decoded in context and the context's own text removed (the tokens then join back to the output text).
std::string OutputProcessor::token_text(int32_t previous, int32_t token) const {
  const std::string context = tokenizer_.decode(std::vector<int32_t>{previous}, false);
  const std::string both = tokenizer_.decode(std::vector<int32_t>{previous, token}, false);
  if (both.compare(0, context.size(), context) == 0) return both.substr(context.size());
  return tokenizer_.decode(std::vector<int32_t>{token}, false);
}

std::optional<FinishReason> OutputProcessor::process_token(const std::string& request_id, int index,
                                                           const SampledToken& sampled, bool structure_terminated) {
  RequestState& r = state(request_id);
  SampleState& sample = *r.samples.at(index);
  const SamplingParams& p = r.params;
  const int32_t token = sampled.token_id;
  const int32_t previous = sample.token_ids.empty() ? r.prompt_token_ids.back() : sample.token_ids.back();
  sample.token_ids.push_back(token);

  const auto now = Clock::now();
  if (!r.has_first_token) {
    r.has_first_token = true;
    observe(stats_.time_to_first_token_seconds, seconds_between(r.arrival, now));
  } else if (index == 0) {
    observe(stats_.inter_token_latency_seconds, seconds_between(r.last_token, now));
  }
  if (index == 0) r.last_token = now;
  ++stats_.generation_tokens_total;

  if (p.logprobs) {
    std::map<int32_t, Logprob> entry;
    for (size_t i = 0; i < sampled.top_logprobs.size(); ++i) {
      auto [id, lp] = sampled.top_logprobs[i];
      entry[id] = Logprob{lp, int(i) + 1, token_text(previous, id)};
    }
    entry[token] = Logprob{sampled.logprob, sampled.rank, token_text(previous, token)};
    sample.logprobs.push_back(std::move(entry));
    sample.cumulative_logprob += sampled.logprob;
  }
  const int num_output = static_cast<int>(sample.token_ids.size());
  const bool min_reached = num_output >= p.min_tokens;

  const bool is_eos = !p.ignore_eos && std::binary_search(eos_token_ids_.begin(), eos_token_ids_.end(), token);
  const bool is_stop_token = std::find(p.stop_token_ids.begin(), p.stop_token_ids.end(), token) != p.stop_token_ids.end();
  // A stop or EOS token ends the text without adding itself to it (it is a special token).
  if (min_reached && (is_eos || is_stop_token)) {
    sample.text += sample.detokenizer->flush();
    if (is_stop_token && !is_eos) sample.stop_reason = token;
    return sample.finish_reason = FinishReason::kStop;
  }
  const std::string delta = sample.detokenizer->add(token);
  sample.text += delta;
  if (min_reached && !p.stop.empty() && !delta.empty()) {
    if (auto match = find_stop_string(sample.text, delta.size(), p.stop, p.include_stop_str_in_output)) {
      sample.text.resize(match->truncate_to);
      sample.stop_reason = match->stop;
      return sample.finish_reason = FinishReason::kStop;
    }
  }
  // A complete structure that nothing but EOS may follow ends here, as if EOS had been sampled.
  const bool structure_done = structure_terminated && min_reached;
  const int num_tokens = static_cast<int>(r.prompt_token_ids.size()) + num_output;
  if (structure_done || num_output >= p.max_tokens || num_tokens >= max_model_len_) {
    sample.text += sample.detokenizer->flush();
    return sample.finish_reason = structure_done ? FinishReason::kStop : FinishReason::kLength;
  }
  return std::nullopt;
}

std::vector<int> OutputProcessor::abort(const std::string& request_id) {
  RequestState& r = state(request_id);
  std::vector<int> aborted;
  for (auto& sample : r.samples) {
    if (sample->finish_reason) continue;
    sample->finish_reason = FinishReason::kAbort;
    aborted.push_back(sample->index);
  }
  // A request aborted before its fork reports only the samples it has, all aborted.
  r.all_samples_added = true;
  return aborted;
}

CompletionOutput OutputProcessor::completion(const RequestState& r, SampleState& sample, size_t holdback) const {
  CompletionOutput c;
  c.index = sample.index;
  const std::string& text = sample.text;
  size_t visible = sample.finish_reason ? text.size()
                                        : utf8_safe_prefix(text, text.size() > holdback ? text.size() - holdback : 0);
  visible = std::max(visible, std::min(sample.emitted_text, text.size()));
  const bool delta = r.kind == OutputKind::kDelta;
  const size_t text_from = delta ? std::min(sample.emitted_text, visible) : 0;
  c.text = text.substr(text_from, visible - text_from);
  c.token_ids.assign(sample.token_ids.begin() + (delta ? sample.emitted_tokens : 0), sample.token_ids.end());
  if (r.params.logprobs) {
    c.logprobs = SampleLogprobs(sample.logprobs.begin() + (delta ? sample.emitted_logprobs : 0), sample.logprobs.end());
  }
  c.cumulative_logprob = sample.cumulative_logprob;
  c.finish_reason = sample.finish_reason;
  c.stop_reason = sample.stop_reason;
  sample.emitted_text = visible;
  sample.emitted_tokens = sample.token_ids.size();
  sample.emitted_logprobs = sample.logprobs.size();
  return c;
}

bool OutputProcessor::emit(const std::string& request_id) {
  RequestState& r = state(request_id);
  bool finished = r.all_samples_added;
  for (const auto& sample : r.samples) finished &= sample->finish_reason.has_value();
  if (r.kind != OutputKind::kFinalOnly || finished) {
    RequestOutput out;
    out.request_id = r.request_id;
    out.prompt = r.prompt;
    out.prompt_token_ids = r.prompt_token_ids;
    out.finished = finished;
    const size_t holdback = stop_holdback_bytes(r.params.stop, r.params.include_stop_str_in_output);
    for (auto& sample : r.samples) {
      CompletionOutput c = completion(r, *sample, holdback);
      // A delta output carries only samples with something new (or that just finished).
      if (r.kind == OutputKind::kDelta && c.text.empty() && c.token_ids.empty() && !c.finish_reason) continue;
      out.outputs.push_back(std::move(c));
    }
    if (r.on_output) r.on_output(out);
  }
  if (!finished) return false;
  observe(stats_.e2e_request_latency_seconds, seconds_between(r.arrival, Clock::now()));
  for (const auto& sample : r.samples) ++stats_.request_success_total[finish_reason_name(*sample->finish_reason)];
  requests_.erase(request_id);
  return true;
}

}  // namespace pagedllm
