// This process's resident memory, read from /proc/self/status (Linux).
#pragma once

#include <cstddef>

namespace pagedllm {

// VmRSS (now) and VmHWM (the high-water mark since start) in bytes; 0 where /proc is unavailable.
size_t resident_bytes();
size_t peak_resident_bytes();

}  // namespace pagedllm
