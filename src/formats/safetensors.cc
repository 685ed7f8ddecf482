#include "formats/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

#include "util/error.h"
#include "util/half.h"

namespace pagedllm {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the limit the reference implementation enforces

DType parse_dtype(const std::string& name, const std::string& path, const std::string& tensor) {
  static const std::map<std::string, DType> kDtypes = {
      {"F32", DType::kF32}, {"F16", DType::kF16}, {"BF16", DType::kBF16}, {"F64", DType::kF64},
      {"I8", DType::kI8},   {"U8", DType::kU8},   {"I16", DType::kI16},   {"I32", DType::kI32},
      {"I64", DType::kI64}, {"BOOL", DType::kBool}};
  auto it = kDtypes.find(name);
  if (it == kDtypes.end()) throw_error(ErrorKind::kUnsupported, "{}: tensor '{}' has unsupported dtype '{}'", path, tensor, name);
  return it->second;
}

}  // namespace

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    case DType::kF64: return "F64";
    case DType::kI8: return "I8";
    case DType::kU8: return "U8";
    case DType::kI16: return "I16";
    case DType::kI32: return "I32";
    case DType::kI64: return "I64";
    case DType::kBool: return "BOOL";
  }
  return "?";
}

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kF64: case DType::kI64: return 8;
    case DType::kF32: case DType::kI32: return 4;
    case DType::kF16: case DType::kBF16: case DType::kI16: return 2;
    case DType::kI8: case DType::kU8: case DType::kBool: return 1;
  }
  return 1;
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : file_(std::make_unique<MappedFile>(path)) {
  const size_t size = file_->size();
  if (size < 8) throw_error(ErrorKind::kCorrupt, "{}: truncated safetensors file ({} bytes, no header length)", path, size);
  uint64_t header_len = 0;
  std::memcpy(&header_len, file_->data(), 8);
  if (header_len > kMaxHeaderBytes) throw_error(ErrorKind::kCorrupt, "{}: header length {} exceeds the limit of {}", path, header_len, kMaxHeaderBytes);
  if (header_len > size - 8) throw_error(ErrorKind::kCorrupt, "{}: header length {} runs past the end of the file ({} bytes)", path, header_len, size);
  const char* header_begin = reinterpret_cast<const char*>(file_->data() + 8);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_begin, header_begin + header_len);
  } catch (const nlohmann::json::exception& e) {
    throw_error(ErrorKind::kCorrupt, "{}: header is not valid JSON: {}", path, e.what());
  }
  if (!header.is_object()) throw_error(ErrorKind::kCorrupt, "{}: header is not a JSON object", path);

  const uint8_t* buffer = file_->data() + 8 + header_len;
  const size_t buffer_size = size - 8 - header_len;
  std::vector<std::pair<size_t, size_t>> ranges;
  for (auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw_error(ErrorKind::kCorrupt, "{}: __metadata__ is not an object", path);
      for (auto& [k, v] : entry.items()) {
        if (!v.is_string()) throw_error(ErrorKind::kCorrupt, "{}: __metadata__ value '{}' is not a string", path, k);
        metadata_[k] = v.get<std::string>();
      }
      continue;
    }
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets") ||
        !entry["dtype"].is_string() || !entry["shape"].is_array() || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2) {
      throw_error(ErrorKind::kCorrupt, "{}: tensor '{}' needs dtype, shape and two data_offsets", path, name);
    }
    TensorView view;
    view.name = name;
    view.dtype = parse_dtype(entry["dtype"].get<std::string>(), path, name);
    for (auto& d : entry["shape"]) {
      if (!d.is_number_unsigned()) throw_error(ErrorKind::kCorrupt, "{}: tensor '{}' has a non-integer or negative dimension", path, name);
      view.shape.push_back(d.get<int64_t>());
    }
    auto& offs = entry["data_offsets"];
    if (!offs[0].is_number_unsigned() || !offs[1].is_number_unsigned()) throw_error(ErrorKind::kCorrupt, "{}: tensor '{}' has invalid data_offsets", path, name);
    uint64_t begin = offs[0].get<uint64_t>(), end = offs[1].get<uint64_t>();
    if (begin > end || end > buffer_size) {
      throw_error(ErrorKind::kCorrupt, "{}: tensor '{}' data_offsets [{}, {}] are outside the data buffer of {} bytes", path, name, begin, end, buffer_size);
    }
    // numel × size with overflow protection: each dimension is bounded by the buffer size.
    unsigned __int128 expected = dtype_size(view.dtype);
    for (int64_t d : view.shape) expected *= static_cast<uint64_t>(d);
    if (expected != end - begin) {
      throw_error(ErrorKind::kCorrupt, "{}: tensor '{}' occupies {} bytes but its dtype {} and shape need {}", path, name, end - begin, dtype_name(view.dtype), static_cast<uint64_t>(expected));
    }
    view.data = buffer + begin;
    view.num_bytes = end - begin;
    ranges.emplace_back(begin, end);
    tensors_.emplace(name, std::move(view));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].first < ranges[i - 1].second) throw_error(ErrorKind::kCorrupt, "{}: tensor data ranges overlap at byte {}", path, ranges[i].first);
  }
}

const TensorView* SafetensorsFile::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

bool SafetensorsCheckpoint::exists_in(const std::string& model_dir) {
  return file_exists(model_dir + "/model.safetensors") || file_exists(model_dir + "/model.safetensors.index.json");
}

SafetensorsCheckpoint::SafetensorsCheckpoint(const std::string& model_dir) : model_dir_(model_dir) {
  std::vector<std::string> files;
  const std::string index_path = model_dir + "/model.safetensors.index.json";
  if (file_exists(index_path)) {
    nlohmann::json index;
    try {
      index = nlohmann::json::parse(read_text_file(index_path));
    } catch (const nlohmann::json::exception& e) {
      throw_error(ErrorKind::kCorrupt, "{}: not valid JSON: {}", index_path, e.what());
    }
    if (!index.contains("weight_map") || !index["weight_map"].is_object()) throw_error(ErrorKind::kCorrupt, "{}: no weight_map object", index_path);
    for (auto& [tensor, file] : index["weight_map"].items()) {
      if (!file.is_string()) throw_error(ErrorKind::kCorrupt, "{}: weight_map entry '{}' is not a file name", index_path, tensor);
      std::string f = file.get<std::string>();
      if (f.find('/') != std::string::npos) throw_error(ErrorKind::kCorrupt, "{}: shard name '{}' must be a plain file name", index_path, f);
      if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
    }
  } else if (file_exists(model_dir + "/model.safetensors")) {
    files.push_back("model.safetensors");
  } else {
    throw_error(ErrorKind::kNotFound, "{}: no model.safetensors or model.safetensors.index.json", model_dir);
  }
  for (const auto& f : files) {
    files_.push_back(std::make_unique<SafetensorsFile>(model_dir + "/" + f));
    for (auto& [name, view] : files_.back()->tensors()) {
      if (!index_.emplace(name, &view).second) throw_error(ErrorKind::kCorrupt, "{}: tensor '{}' appears in more than one shard", model_dir, name);
    }
  }
}

const TensorView* SafetensorsCheckpoint::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

const TensorView& SafetensorsCheckpoint::get(const std::string& name) const {
  const TensorView* t = find(name);
  if (t == nullptr) throw_error(ErrorKind::kNotFound, "{}: missing tensor '{}'", model_dir_, name);
  return *t;
}

void SafetensorsCheckpoint::release(const void* begin, size_t bytes) const {
  for (const auto& file : files_) file->file().release(begin, bytes);
}

std::vector<std::string> SafetensorsCheckpoint::tensor_names() const {
  std::vector<std::string> names;
  for (auto& [name, view] : index_) names.push_back(name);
  return names;
}

std::vector<float> tensor_to_f32(const TensorView& tensor) {
  const int64_t n = tensor.numel();
  std::vector<float> out(n);
  switch (tensor.dtype) {
    case DType::kF32: std::memcpy(out.data(), tensor.data, n * 4); break;
    case DType::kF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, tensor.data + 2 * i, 2);
        out[i] = f16_to_f32(h);
      }
      break;
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, tensor.data + 2 * i, 2);
        out[i] = bf16_to_f32(h);
      }
      break;
    default:
      throw_error(ErrorKind::kUnsupported, "tensor '{}' has dtype {}; expected F32, F16 or BF16", tensor.name, dtype_name(tensor.dtype));
  }
  return out;
}

}  // namespace pagedllm
