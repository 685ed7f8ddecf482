#include "formats/safetensors_writer.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <set>

#include "util/atomic_file.h"
#include "util/error.h"

namespace pagedllm {
namespace {

size_t dtype_bytes(const std::string& dtype) {
  static const std::map<std::string, size_t> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"I16", 2}, {"U16", 2}, {"F16", 2},
      {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4}, {"I64", 8}, {"U64", 8}, {"F64", 8}};
  const auto it = sizes.find(dtype);
  if (it == sizes.end()) throw_error(ErrorKind::kInvalidArgument, "safetensors writer: unknown dtype '{}'", dtype);
  return it->second;
}

}  // namespace

SafetensorsEntry safetensors_entry(std::string name, std::string dtype, std::vector<int64_t> shape, const void* data) {
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  const size_t num_bytes = static_cast<size_t>(numel) * dtype_bytes(dtype);
  return {std::move(name), std::move(dtype), std::move(shape), num_bytes,
          [data, num_bytes](const ByteSink& sink) { sink(data, num_bytes); }};
}

void write_safetensors(const std::string& path, const std::vector<SafetensorsEntry>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  size_t offset = 0;
  for (const auto& t : tensors) {
    if (!names.insert(t.name).second || t.name == "__metadata__") {
      throw_error(ErrorKind::kInvalidArgument, "{}: tensor name '{}' used twice or reserved", path, t.name);
    }
    int64_t numel = 1;
    for (int64_t d : t.shape) numel *= d;
    if (static_cast<size_t>(numel) * dtype_bytes(t.dtype) != t.num_bytes) {
      throw_error(ErrorKind::kInvalidArgument, "{}: tensor '{}' has {} bytes, its shape and dtype need {}", path,
                  t.name, t.num_bytes, static_cast<size_t>(numel) * dtype_bytes(t.dtype));
    }
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.num_bytes}}};
    offset += t.num_bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  uint64_t header_len = text.size();
  uint8_t len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<uint8_t>(header_len >> (8 * i));  // little-endian

  AtomicFileWriter writer(path);
  writer.write(len_bytes, 8);
  writer.write(text);
  for (const auto& t : tensors) {
    size_t written = 0;
    t.write_data([&](const void* data, size_t size) {
      writer.write(data, size);
      written += size;
    });
    if (written != t.num_bytes) {
      throw_error(ErrorKind::kInvalidArgument, "{}: tensor '{}' emitted {} bytes instead of {}", path, t.name, written,
                  t.num_bytes);
    }
  }
  writer.commit();
}

}  // namespace pagedllm
