// Encode throughput for `pagedllm bench tokenizer`.
#pragma once

#include <string>

#include "tokenizer/tokenizer.h"

namespace pagedllm {

// Megabytes (1e6 bytes) of `text` encoded per second of the calling thread's CPU time (so other load on the
// machine does not count), without special tokens. The text is encoded line by line (as a corpus is), repeated
// until at least `min_seconds` of CPU time have passed; one untimed pass warms the word cache first, as a
// long-running server would have it.
double bench_tokenizer_encode_mb_per_s(const Tokenizer& tokenizer, const std::string& text, double min_seconds = 2.0);

}  // namespace pagedllm
