#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "kernels/elementwise.h"
#include "util/error.h"

namespace pagedllm {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

void apply_penalties(float* logits, int64_t vocab, const SamplingContext& ctx) {
  const SamplingParams& p = *ctx.params;
  if (p.repetition_penalty != 1.0f) {
    std::vector<bool> seen(vocab, false);
    for (int32_t t : ctx.prompt_token_ids) seen[t] = true;
    for (int32_t t : ctx.output_token_ids) seen[t] = true;
    for (int64_t t = 0; t < vocab; ++t) {
      if (!seen[t]) continue;
      logits[t] = logits[t] > 0 ? logits[t] / p.repetition_penalty : logits[t] * p.repetition_penalty;
    }
  }
  if (p.frequency_penalty != 0.0f || p.presence_penalty != 0.0f) {
    std::unordered_map<int32_t, int> counts;
    for (int32_t t : ctx.output_token_ids) ++counts[t];
    for (auto [t, count] : counts) logits[t] -= p.frequency_penalty * count + p.presence_penalty;
  }
}

int32_t argmax(const float* x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (x[i] > x[best]) best = i;
  }
  return static_cast<int32_t>(best);
}

// Draws from softmax(logits) restricted by min_p, top_k and top_p (applied in that order, as vLLM does).
int32_t draw(float* logits, int64_t vocab, const SamplingParams& p, Rng& rng) {
  const float inv_t = 1.0f / p.temperature;
  float max_logit = kNegInf;
  for (int64_t i = 0; i < vocab; ++i) {
    logits[i] *= inv_t;
    max_logit = std::max(max_logit, logits[i]);
  }
  std::vector<double> probs(vocab);
  double total = 0.0;
  for (int64_t i = 0; i < vocab; ++i) total += probs[i] = std::exp(double(logits[i]) - max_logit);
  for (auto& v : probs) v /= total;
  if (p.min_p > 0.0f) {
    const double threshold = p.min_p * (*std::max_element(probs.begin(), probs.end()));
    for (auto& v : probs) {
      if (v < threshold) v = 0.0;
    }
  }
  std::vector<int32_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  const bool top_k_on = p.top_k > 0 && p.top_k < vocab;
  const bool top_p_on = p.top_p < 1.0f;
  int64_t keep = vocab;
  if (top_k_on || top_p_on) {
    // Stable order: ties broken by token id so the result never depends on the sort implementation.
    auto by_prob = [&](int32_t a, int32_t b) { return probs[a] != probs[b] ? probs[a] > probs[b] : a < b; };
    if (top_k_on && !top_p_on) {
      std::partial_sort(order.begin(), order.begin() + p.top_k, order.end(), by_prob);
    } else {
      std::sort(order.begin(), order.end(), by_prob);
    }
    if (top_k_on) keep = p.top_k;
    if (top_p_on) {
      double kept_total = 0.0;
      for (int64_t i = 0; i < keep; ++i) kept_total += probs[order[i]];
      double cumulative = 0.0;
      int64_t n = 0;
      while (n < keep) {
        cumulative += probs[order[n]] / kept_total;
        ++n;
        if (cumulative >= p.top_p) break;
      }
      keep = std::max<int64_t>(n, 1);
    }
  }
  double kept_total = 0.0;
  for (int64_t i = 0; i < keep; ++i) kept_total += probs[order[i]];
  double u = rng.uniform() * kept_total;
  int32_t last_nonzero = order[0];
  for (int64_t i = 0; i < keep; ++i) {
    double pr = probs[order[i]];
    if (pr <= 0.0) continue;
    last_nonzero = order[i];
    if (u < pr) return order[i];
    u -= pr;
  }
  return last_nonzero;
}

}  // namespace

SampledToken sample_token(float* logits, int64_t vocab, const SamplingContext& ctx) {
  const SamplingParams& p = *ctx.params;
  const int num_logprobs = p.logprobs.value_or(0);
  std::vector<float> raw;
  if (p.logprobs) {
    raw.resize(vocab);
    log_softmax(raw.data(), logits, 1, vocab);
  }
  for (const auto& [token, bias] : p.logit_bias) {
    if (token >= 0 && token < vocab) logits[token] += bias;
  }
  if (ctx.allowed_token_mask) {
    for (int64_t w = 0; w * 64 < vocab; ++w) {
      const uint64_t word = ctx.allowed_token_mask[w];
      if (word == ~uint64_t(0)) continue;
      for (int64_t t = w * 64; t < std::min<int64_t>(vocab, w * 64 + 64); ++t) {
        if (!((word >> (t & 63)) & 1)) logits[t] = kNegInf;
      }
    }
  }
  for (int32_t t : ctx.suppressed_token_ids) {
    if (t >= 0 && t < vocab) logits[t] = kNegInf;
  }
  apply_penalties(logits, vocab, ctx);

  SampledToken out;
  if (p.is_greedy()) {
    out.token_id = argmax(logits, vocab);
  } else {
    PAGEDLLM_CHECK(ctx.rng != nullptr);
    out.token_id = draw(logits, vocab, p, *ctx.rng);
  }
  if (p.logprobs) {
    out.logprob = raw[out.token_id];
    int rank = 1;
    for (int64_t i = 0; i < vocab; ++i) rank += raw[i] > out.logprob;
    out.rank = rank;
    std::vector<int32_t> order(vocab);
    std::iota(order.begin(), order.end(), 0);
    const int k = std::min<int64_t>(num_logprobs, vocab);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int32_t a, int32_t b) { return raw[a] != raw[b] ? raw[a] > raw[b] : a < b; });
    for (int i = 0; i < k; ++i) out.top_logprobs.emplace_back(order[i], raw[order[i]]);
  }
  return out;
}

}  // namespace pagedllm
