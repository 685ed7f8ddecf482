// The gradient convention, used by every `*_backward` function: the ops' backwards beside their forwards in
// kernels/ (rmsnorm.h, rope.h, swiglu.h, causal_attention.h, cross_entropy.h) and the block and LoRA backwards that
// train/ composes from them:
//   * Parameter gradients (dweight of RMSNorm, dA and dB of LoRA) are ACCUMULATED: `dparam += ...`. The caller
//     zeroes them once per optimizer step, so micro-batches (gradient accumulation) and layers that share a
//     parameter simply add up.
//   * Activation gradients (dx, dq, dk, dv, dlogits, ...) are ASSIGNED: `dx = ...`. Where a forward value feeds
//     two consumers (the residual stream), the caller adds the two assigned gradients with add_inplace.
//     The one exception is documented at its function: lora_backward adds into a dx that the frozen-weight path
//     has just assigned, because the two are the two halves of one linear layer's dx.
//   * `foo_backward` takes exactly what `foo_forward` saved (named in the forward's comment) plus the upstream
//     gradient `dout`; it never recomputes a forward that was not declared as recomputed.
//   * Ops that gradient checks exercise are templates over T = float (training) and T = double (the finite
//     difference reference in the tests), explicitly instantiated for both.
//
// Shapes are row-major and written as (rows, cols); `n_tokens` counts the rows of a flattened batch of
// `n_seqs` sequences of `seq_len` tokens each (sequence s occupies rows s·seq_len … s·seq_len + seq_len − 1).
#pragma once
