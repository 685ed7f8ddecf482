// A safetensors writer (format: formats.md §1; the reader is formats/safetensors.h): u64 header length, JSON header
// padded with spaces to a multiple of 8 bytes, then the tensors' bytes back to back in the order given. Written
// atomically (atomic_file.h). Tensor bytes are streamed by a callback, so a paged optimizer state larger than
// memory can be saved page by page.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace pagedllm {

using ByteSink = std::function<void(const void* data, size_t size)>;

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // "F32", "U8", "I64", ... (safetensors dtype strings)
  std::vector<int64_t> shape;
  size_t num_bytes = 0;                             // must equal numel × dtype size
  std::function<void(const ByteSink&)> write_data;  // emits exactly num_bytes
};

// An entry over borrowed memory (must stay alive until write_safetensors returns).
SafetensorsEntry safetensors_entry(std::string name, std::string dtype, std::vector<int64_t> shape, const void* data);

// Throws Error(kInvalidArgument) on duplicate names, an unknown dtype or a size mismatch, Error(kIo) on write
// failure. metadata becomes "__metadata__" (string values only, as the format requires); omitted when empty.
void write_safetensors(const std::string& path, const std::vector<SafetensorsEntry>& tensors,
                       const std::map<std::string, std::string>& metadata);

}  // namespace pagedllm
