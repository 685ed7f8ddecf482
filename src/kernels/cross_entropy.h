// Next-token cross-entropy over the logits of a batch, with masked targets (gradient convention:
// kernels/gradients.h). targets[t] is the token that position t must predict (already shifted: the label of
// position t + 1), or kIgnoreTarget where no loss is taken (source tokens, padding, the last position) — the
// Hugging Face convention of label −100.
#pragma once

#include <cstdint>

namespace pagedllm {

inline constexpr int32_t kIgnoreTarget = -100;

// Number of positions with a target (targets[t] != kIgnoreTarget).
int64_t count_targets(const int32_t* targets, int64_t n_tokens);

// Returns Σ_{t with a target} (lse[t] − logits[t, targets[t]]) / num_targets: the mean loss when num_targets is
// the count over the whole batch (pass the same count to every chunk when the batch is processed in row chunks).
// logits: (n_tokens, vocab); saves lse (n_tokens), the log-sum-exp of each row (0 where ignored).
// Throws Error(kInvalidArgument) if a target is out of [0, vocab).
template <typename T>
T cross_entropy_forward(T* lse, const T* logits, const int32_t* targets, int64_t n_tokens, int64_t vocab,
                        int64_t num_targets);

// dlogits (n_tokens, vocab) = dloss · (softmax(logits) − onehot(target)) / num_targets, zero rows where ignored.
// dlogits may alias logits (the logits are no longer needed once their gradient is taken).
template <typename T>
void cross_entropy_backward(T* dlogits, const T* logits, const T* lse, const int32_t* targets, int64_t n_tokens,
                            int64_t vocab, int64_t num_targets, T dloss);

}  // namespace pagedllm
