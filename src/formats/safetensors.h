// Reader of the safetensors format: u64 header length N, N bytes of JSON header, then the tensor bytes.
// Files are memory-mapped; tensors are views into the map. Every structural error (truncated file, header past
// the end, offsets out of range or overlapping, size not matching dtype × shape, unknown dtype) throws
// Error(kCorrupt / kUnsupported) naming the file and the tensor.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "util/mapped_file.h"

namespace pagedllm {

enum class DType { kF32, kF16, kBF16, kF64, kI8, kU8, kI16, kI32, kI64, kBool };

const char* dtype_name(DType dtype);
size_t dtype_size(DType dtype);

struct TensorView {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // points into the mapped file
  size_t num_bytes = 0;
  int64_t numel() const;
};

class SafetensorsFile {
 public:
  // Throws Error naming `path` on any malformed header.
  explicit SafetensorsFile(const std::string& path);

  const std::string& path() const { return file_->path(); }
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const TensorView* find(const std::string& name) const;
  const MappedFile& file() const { return *file_; }

 private:
  std::unique_ptr<MappedFile> file_;
  std::map<std::string, TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

// The tensors of a model folder: model.safetensors, or the shards listed by model.safetensors.index.json.
class SafetensorsCheckpoint {
 public:
  explicit SafetensorsCheckpoint(const std::string& model_dir);
  static bool exists_in(const std::string& model_dir);

  const TensorView* find(const std::string& name) const;
  // Throws Error(kNotFound) naming the tensor and the folder.
  const TensorView& get(const std::string& name) const;
  std::vector<std::string> tensor_names() const;
  // MappedFile::release for bytes of whichever file maps them.
  void release(const void* begin, size_t bytes) const;

 private:
  std::string model_dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorView*> index_;
};

// Reads a tensor of dtype F32/F16/BF16 into fp32 values; Error(kUnsupported) for other dtypes.
std::vector<float> tensor_to_f32(const TensorView& tensor);

}  // namespace pagedllm
