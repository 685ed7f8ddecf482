// How `pagedllm serve` keeps the memory of large request bodies from staying with the process.
//
// glibc gives each thread that allocates under contention its own arena (up to 8 per core), and a freed arena's
// pages stay mapped; with 256 HTTP threads, four 16 MiB "[" bodies left the resident set at 4.3 GiB where one arena
// held it at 111 MiB. The main malloc policy (util/malloc_policy.h) also keeps freed memory for reuse, which suits
// training's repeated buffers but not a server's one-off large requests.
#pragma once

#include <cstddef>

namespace pagedllm {

// Caps glibc at kMaxServerMallocArenas arenas, and lets a free() return the top of a heap once more than
// kServerTrimThreshold is free there (malloc_trim releases free chunks inside a heap but never the top of a
// thread arena's heap, where a freed 16 MiB body ends up). Call before the HTTP threads start: glibc fixes the
// arena cap once it has created its 8th arena.
void limit_malloc_arenas_for_serving();
inline constexpr int kMaxServerMallocArenas = 2;
inline constexpr int kServerTrimThreshold = 16 << 20;

// After a request that read this many bytes, freed memory goes back to the kernel (malloc_trim).
inline constexpr size_t kTrimAfterRequestBytes = 1u << 20;
void return_freed_memory();

}  // namespace pagedllm
