#include "server/logprobs_format.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace pagedllm {
namespace {

double finite_logprob(float logprob) { return std::max(static_cast<double>(logprob), -9999.0); }

std::vector<std::pair<int32_t, const Logprob*>> top_by_rank(const std::map<int32_t, Logprob>& step, int num_top) {
  std::vector<std::pair<int32_t, const Logprob*>> ranked;
  for (const auto& [id, logprob] : step) {
    if (logprob.rank >= 1 && logprob.rank <= num_top) ranked.emplace_back(id, &logprob);
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second->rank < b.second->rank; });
  return ranked;
}

const Logprob& sampled_entry(const std::map<int32_t, Logprob>& step, int32_t token_id) {
  auto it = step.find(token_id);
  PAGEDLLM_CHECK_MSG(it != step.end(), "the logprobs of a step lack the sampled token {}", token_id);
  return it->second;
}

nlohmann::json utf8_bytes(const std::string& text) {
  nlohmann::json bytes = nlohmann::json::array();
  for (unsigned char c : text) bytes.push_back(static_cast<int>(c));
  return bytes;
}

}  // namespace

size_t utf8_length(const std::string& text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

nlohmann::json completion_logprobs(const std::vector<int32_t>& token_ids, const SampleLogprobs& logprobs,
                                   int num_top, size_t& text_offset) {
  PAGEDLLM_CHECK(token_ids.size() == logprobs.size());
  nlohmann::json tokens = nlohmann::json::array(), token_logprobs = nlohmann::json::array();
  nlohmann::json top_logprobs = nlohmann::json::array(), offsets = nlohmann::json::array();
  for (size_t i = 0; i < token_ids.size(); ++i) {
    const Logprob& sampled = sampled_entry(logprobs[i], token_ids[i]);
    tokens.push_back(sampled.decoded_token);
    token_logprobs.push_back(finite_logprob(sampled.logprob));
    nlohmann::json top = nlohmann::json::object();
    for (const auto& [id, entry] : top_by_rank(logprobs[i], num_top)) {
      top[entry->decoded_token] = finite_logprob(entry->logprob);
    }
    top[sampled.decoded_token] = finite_logprob(sampled.logprob);
    top_logprobs.push_back(std::move(top));
    offsets.push_back(text_offset);
    text_offset += utf8_length(sampled.decoded_token);
  }
  return {{"tokens", tokens}, {"token_logprobs", token_logprobs}, {"top_logprobs", top_logprobs},
          {"text_offset", offsets}};
}

void append_completion_logprobs(nlohmann::json& into, const nlohmann::json& more) {
  if (into.is_null()) {
    into = more;
    return;
  }
  for (const char* key : {"tokens", "token_logprobs", "top_logprobs", "text_offset"}) {
    for (const auto& item : more[key]) into[key].push_back(item);
  }
}

nlohmann::json chat_logprobs_content(const std::vector<int32_t>& token_ids, const SampleLogprobs& logprobs,
                                     int num_top) {
  PAGEDLLM_CHECK(token_ids.size() == logprobs.size());
  nlohmann::json content = nlohmann::json::array();
  for (size_t i = 0; i < token_ids.size(); ++i) {
    const Logprob& sampled = sampled_entry(logprobs[i], token_ids[i]);
    nlohmann::json top = nlohmann::json::array();
    for (const auto& [id, entry] : top_by_rank(logprobs[i], num_top)) {
      top.push_back({{"token", entry->decoded_token},
                     {"logprob", finite_logprob(entry->logprob)},
                     {"bytes", utf8_bytes(entry->decoded_token)}});
    }
    content.push_back({{"token", sampled.decoded_token},
                       {"logprob", finite_logprob(sampled.logprob)},
                       {"bytes", utf8_bytes(sampled.decoded_token)},
                       {"top_logprobs", std::move(top)}});
  }
  return content;
}

}  // namespace pagedllm
