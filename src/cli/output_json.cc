#include "cli/output_json.h"

#include "util/error.h"

namespace pagedllm {

using nlohmann::json;

json request_output_to_json(const RequestOutput& r) {
  json outputs = json::array();
  for (const auto& c : r.outputs) {
    json logprobs = nullptr;
    if (c.logprobs) {
      logprobs = json::array();
      for (const auto& entry : *c.logprobs) {
        json m = json::object();
        for (const auto& [id, lp] : entry) m[std::to_string(id)] = lp.logprob;
        logprobs.push_back(m);
      }
    }
    json stop_reason = nullptr;
    if (auto* s = std::get_if<std::string>(&c.stop_reason)) stop_reason = *s;
    if (auto* t = std::get_if<int32_t>(&c.stop_reason)) stop_reason = *t;
    outputs.push_back({{"index", c.index},
                       {"text", c.text},
                       {"token_ids", c.token_ids},
                       {"cumulative_logprob", c.logprobs ? json(c.cumulative_logprob) : json(nullptr)},
                       {"logprobs", logprobs},
                       {"finish_reason", c.finish_reason ? json(finish_reason_name(*c.finish_reason)) : json(nullptr)},
                       {"stop_reason", stop_reason}});
  }
  return {{"request_id", r.request_id}, {"prompt", r.prompt},   {"prompt_token_ids", r.prompt_token_ids},
          {"outputs", outputs},         {"finished", r.finished}};
}

namespace {

template <typename T>
void read_field(const json& j, const char* key, T& out) {
  if (!j.contains(key) || j[key].is_null()) return;
  try {
    out = j[key].get<T>();
  } catch (const json::exception&) {
    throw_error(ErrorKind::kInvalidArgument, "field '{}' has the wrong type", key);
  }
}

}  // namespace

void apply_sampling_fields(const json& j, SamplingParams& p) {
  read_field(j, "n", p.n);
  read_field(j, "max_tokens", p.max_tokens);
  read_field(j, "min_tokens", p.min_tokens);
  read_field(j, "temperature", p.temperature);
  read_field(j, "top_p", p.top_p);
  read_field(j, "top_k", p.top_k);
  read_field(j, "min_p", p.min_p);
  read_field(j, "presence_penalty", p.presence_penalty);
  read_field(j, "frequency_penalty", p.frequency_penalty);
  read_field(j, "repetition_penalty", p.repetition_penalty);
  if (j.contains("seed") && !j["seed"].is_null()) {
    uint64_t seed = 0;
    read_field(j, "seed", seed);
    p.seed = seed;
  }
  if (j.contains("stop") && j["stop"].is_string()) {
    p.stop = {j["stop"].get<std::string>()};
  } else {
    read_field(j, "stop", p.stop);
  }
  read_field(j, "stop_token_ids", p.stop_token_ids);
  read_field(j, "ignore_eos", p.ignore_eos);
  if (j.contains("logprobs") && !j["logprobs"].is_null()) {
    int n = 0;
    read_field(j, "logprobs", n);
    p.logprobs = n;
  }
  read_field(j, "skip_special_tokens", p.skip_special_tokens);
  read_field(j, "include_stop_str_in_output", p.include_stop_str_in_output);
}

}  // namespace pagedllm
