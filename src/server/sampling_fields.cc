#include "server/sampling_fields.h"
#include "server/structured_fields.h"

#include <algorithm>

#include "server/api_error.h"
#include "server/request_fields.h"

namespace pagedllm {
namespace {

// OpenAI documents logit_bias values in [-100, 100]; vLLM clamps to that range, and so do we.
constexpr double kMaxLogitBias = 100.0;

// best_of: vLLM's rule (an integer >= n); best_of > n (sampling more and returning the best) is not built.
void check_best_of(const json& body, int n) {
  std::optional<int64_t> best_of = get_int(body, "best_of", 1, kMaxN);
  if (!best_of) return;
  if (*best_of < n) {
    throw_field_error("best_of", "best_of must be greater than or equal to n, got n={} and best_of={}", n, *best_of);
  }
  if (*best_of > n) throw FieldError(ErrorKind::kUnsupported, "best_of", "best_of > n is not supported yet");
}

float get_float_in(const json& body, const std::string& name, float fallback, double min, double max,
                   bool min_exclusive) {
  std::optional<double> value = get_number(body, name);
  if (!value) return fallback;
  bool is_below = min_exclusive ? *value <= min : *value < min;
  if (is_below || *value > max) {
    throw_field_error(name, "{} must be in {}{}, {}], got {}", name, min_exclusive ? "(" : "[", min, max, *value);
  }
  return static_cast<float>(*value);
}

std::map<int32_t, float> parse_logit_bias(const json& body, int vocab_size) {
  std::map<int32_t, float> bias;
  const json* object = get_object(body, "logit_bias");
  if (object == nullptr) return bias;
  for (auto it = object->begin(); it != object->end(); ++it) {
    std::string param = fmt::format("logit_bias[{}]", it.key());
    size_t used = 0;
    long long id = -1;
    try {
      id = std::stoll(it.key(), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != it.key().size() || id < 0 || id >= vocab_size) {
      throw_field_error("logit_bias", "logit_bias keys must be token ids in [0, {}), got \"{}\"", vocab_size,
                        it.key());
    }
    if (!it.value().is_number()) throw_field_error(param, "{} must be a number", param);
    // Clamped as a double: 1e308 does not fit a float (converting it is undefined behaviour).
    double value = std::clamp(it.value().get<double>(), -kMaxLogitBias, kMaxLogitBias);
    bias[static_cast<int32_t>(id)] = static_cast<float>(value);
  }
  return bias;
}

std::vector<int32_t> parse_stop_token_ids(const json& body, int vocab_size) {
  std::vector<int32_t> ids;
  const json* list = find_field(body, "stop_token_ids");
  if (list == nullptr) return ids;
  if (!list->is_array()) throw_field_error("stop_token_ids", "stop_token_ids must be a list of token ids");
  for (size_t i = 0; i < list->size(); ++i) {
    ids.push_back(static_cast<int32_t>(as_int((*list)[i], fmt::format("stop_token_ids[{}]", i), 0, vocab_size - 1)));
  }
  return ids;
}

}  // namespace

SamplingParams parse_sampling_fields(const json& body, const nlohmann::ordered_json& ordered_body, int vocab_size) {
  SamplingParams p;
  p.n = static_cast<int>(get_int(body, "n", 1, kMaxN).value_or(1));
  check_best_of(body, p.n);
  p.presence_penalty = get_float_in(body, "presence_penalty", 0.0f, -2.0, 2.0, false);
  p.frequency_penalty = get_float_in(body, "frequency_penalty", 0.0f, -2.0, 2.0, false);
  p.repetition_penalty = get_float_in(body, "repetition_penalty", 1.0f, 0.0, 1e9, true);
  p.temperature = get_float_in(body, "temperature", 1.0f, 0.0, 2.0, false);
  p.top_p = get_float_in(body, "top_p", 1.0f, 0.0, 1.0, true);
  p.top_k = static_cast<int>(get_int(body, "top_k", -1, vocab_size).value_or(0));
  if (p.top_k == -1) p.top_k = 0;
  p.min_p = get_float_in(body, "min_p", 0.0f, 0.0, 1.0, false);
  if (std::optional<int64_t> seed = get_int(body, "seed", INT64_MIN, INT64_MAX); seed && *seed != -1) {
    p.seed = static_cast<uint64_t>(*seed);
  }
  p.stop = get_string_or_strings(body, "stop");
  p.stop_token_ids = parse_stop_token_ids(body, vocab_size);
  p.ignore_eos = get_bool(body, "ignore_eos").value_or(false);
  p.min_tokens = static_cast<int>(get_int(body, "min_tokens", 0, INT32_MAX).value_or(0));
  p.skip_special_tokens = get_bool(body, "skip_special_tokens").value_or(true);
  p.spaces_between_special_tokens = get_bool(body, "spaces_between_special_tokens").value_or(true);
  p.include_stop_str_in_output = get_bool(body, "include_stop_str_in_output").value_or(false);
  p.logit_bias = parse_logit_bias(body, vocab_size);
  p.structured_outputs = parse_structured_fields(body, ordered_body);
  get_string(body, "user");  // accepted for OpenAI compatibility; only its type is checked
  return p;
}

void set_max_tokens(SamplingParams& params, int max_tokens) {
  params.max_tokens = max_tokens;
  if (params.min_tokens > max_tokens) {
    throw_field_error("min_tokens", "min_tokens must be at most max_tokens ({}), got {}", max_tokens,
                      params.min_tokens);
  }
}

void reject_unsupported_fields(const json& body) {
  for (const char* name : {"functions", "allowed_token_ids", "bad_words", "prompt_logprobs", "suffix"}) {
    if (find_field(body, name) != nullptr) {
      throw FieldError(ErrorKind::kUnsupported, name, fmt::format("{} is not supported yet", name));
    }
  }
  if (get_bool(body, "use_beam_search").value_or(false)) {
    throw FieldError(ErrorKind::kUnsupported, "use_beam_search", "use_beam_search is not supported yet");
  }
}

}  // namespace pagedllm
