#include "model/model_weights.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <cstring>

#include "model/bnb_slice.h"
#include "quant/bnb_serialization.h"
#include "quant/quantize.h"
#include "util/error.h"
#include "util/half.h"
#include "util/mapped_file.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

WeightFormat format_for_dtype(const std::string& dtype, const std::string& context) {
  if (dtype == "float32" || dtype == "F32") return WeightFormat::kF32;
  if (dtype == "bfloat16" || dtype == "BF16") return WeightFormat::kBF16;
  if (dtype == "float16" || dtype == "F16") return WeightFormat::kF16;
  throw_error(ErrorKind::kUnsupported, "{}: dtype '{}' is not supported (float32, bfloat16, float16)", context, dtype);
}

size_t format_element_size(WeightFormat f) { return f == WeightFormat::kF32 ? 4 : 2; }

// Writes n fp32 values to `out` in `format` (F32/F16/BF16; the halves round to nearest even).
void store_f32_as(const float* data, int64_t n, WeightFormat format, uint8_t* out) {
  if (format == WeightFormat::kF32) {
    std::memcpy(out, data, n * 4);
    return;
  }
  auto* halves = reinterpret_cast<uint16_t*>(out);
  for (int64_t i = 0; i < n; ++i) halves[i] = format == WeightFormat::kBF16 ? f32_to_bf16(data[i]) : f32_to_f16(data[i]);
}

// Stores fp32 values in `format` (F32/F16/BF16) as an owned dense matrix.
std::unique_ptr<WeightMatrix> dense_from_f32(const float* data, int64_t n_out, int64_t n_in, WeightFormat format) {
  std::vector<uint8_t> bytes(n_out * n_in * format_element_size(format));
  store_f32_as(data, n_out * n_in, format, bytes.data());
  const void* ptr = bytes.data();
  return make_dense_weight(format, ptr, n_out, n_in, std::move(bytes));
}

// The (rows, cols) band `slice` of a row-major matrix with n_in columns.
std::vector<float> slice_f32(const std::vector<float>& values, int64_t n_in, const MatrixSlice& slice, int64_t rows,
                             int64_t cols) {
  std::vector<float> out(size_t(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    const float* src = slice.splits_input ? values.data() + r * n_in + slice.begin : values.data() + (slice.begin + r) * n_in;
    std::memcpy(out.data() + r * cols, src, size_t(cols) * sizeof(float));
  }
  return out;
}

// Where weights come from: a checkpoint, or a seeded generator (dummy) that still knows each tensor's shape.
class WeightSource {
 public:
  WeightSource(const std::string& dir, const WeightLoadOptions& options, const ModelConfig& config)
      : dir_(dir), options_(options), rng_(options.dummy_seed) {
    if (!options.dummy) checkpoint_ = std::make_unique<SafetensorsCheckpoint>(dir);
    std::string dtype = options.dtype == "auto" ? config.torch_dtype : options.dtype;
    if (dtype == "auto" || dtype.empty()) dtype = "float32";
    target_ = format_for_dtype(dtype, dir + "/config.json");
  }

  std::unique_ptr<SafetensorsCheckpoint> release_checkpoint() { return std::move(checkpoint_); }

  const TensorView& view(const std::string& name, std::vector<int64_t> shape) const {
    const TensorView& t = checkpoint_->get(name);
    if (t.shape != shape) {
      throw_error(ErrorKind::kCorrupt, "{}: tensor '{}' has shape {} but config.json implies {}", dir_, name,
                  fmt::format("[{}]", fmt::join(t.shape, ", ")), fmt::format("[{}]", fmt::join(shape, ", ")));
    }
    return t;
  }

  std::vector<float> vector(const std::string& name, int64_t n, float dummy_value) {
    if (options_.dummy) return std::vector<float>(n, dummy_value);
    return tensor_to_f32(view(name, {n}));
  }

  // The band `slice` of tensor `name` (n_out, n_in), or all of it (slice.count 0).
  std::unique_ptr<WeightMatrix> matrix(const std::string& name, int64_t n_out, int64_t n_in, const WeightTransform& transform,
                                       MatrixSlice slice = {}) {
    const int64_t sliced_dim = slice.splits_input ? n_in : n_out;
    const bool whole = slice.count == 0 || (slice.begin == 0 && slice.count == sliced_dim);
    const int64_t rows = whole || slice.splits_input ? n_out : slice.count;
    const int64_t cols = whole || !slice.splits_input ? n_in : slice.count;
    if (options_.dummy) {
      if (whole && !transform) return dummy_dense(n_out, n_in);
      // Every rank draws the whole matrix so that its slice holds the values one process would.
      std::vector<float> values(n_out * n_in);
      fill_dummy(values.data(), n_out * n_in);
      if (!whole) values = slice_f32(values, n_in, slice, rows, cols);
      if (transform) {
        if (auto w = transform(name, values.data(), rows, cols)) return w;
      }
      return from_f32(values.data(), rows, cols);
    }
    if (auto bnb = bnb_4bit_matrix(name, n_out, n_in)) {
      return whole ? std::move(bnb) : slice_bnb_4bit(*bnb, slice, fmt::format("{}: tensor '{}'", dir_, name));
    }
    const TensorView& t = view(name, {n_out, n_in});
    WeightFormat stored;
    switch (t.dtype) {
      case DType::kF32: stored = WeightFormat::kF32; break;
      case DType::kF16: stored = WeightFormat::kF16; break;
      case DType::kBF16: stored = WeightFormat::kBF16; break;
      default:
        throw_error(ErrorKind::kUnsupported, "{}: tensor '{}' has dtype {}; expected F32, F16 or BF16", dir_, name, dtype_name(t.dtype));
    }
    TensorView part = t;
    std::vector<uint8_t> owned;
    if (!whole) {
      const size_t element = dtype_size(t.dtype);
      part.shape = {rows, cols};
      part.num_bytes = size_t(rows * cols) * element;
      if (!slice.splits_input) {
        part.data = t.data + size_t(slice.begin * n_in) * element;  // a band of rows stays mapped: no copy
      } else {
        owned.resize(part.num_bytes);
        for (int64_t r = 0; r < rows; ++r) {
          std::memcpy(owned.data() + size_t(r * cols) * element, t.data + size_t(r * n_in + slice.begin) * element,
                      size_t(cols) * element);
        }
        part.data = owned.data();
      }
    }
    if (transform) {
      std::vector<float> values = tensor_to_f32(part);
      if (auto w = transform(name, values.data(), rows, cols)) return w;
    }
    if (options_.dtype == "auto" || stored == target_) return dense(stored, part.data, rows, cols, std::move(owned));
    std::vector<float> values = tensor_to_f32(part);
    return from_f32(values.data(), rows, cols);
  }

  // Rows [begin, begin + count) of an already loaded dense matrix, in its format (the tied LM head of a rank).
  static std::unique_ptr<WeightMatrix> copy_rows(const WeightMatrix& w, const MatrixSlice& rows) {
    std::vector<float> values(size_t(rows.count * w.n_in()));
    for (int64_t r = 0; r < rows.count; ++r) w.dequantize_row(rows.begin + r, values.data() + r * w.n_in());
    return dense_from_f32(values.data(), rows.count, w.n_in(), w.format());
  }

 private:
  // vLLM's dummy loader fills weights uniformly in [-1e-3, 1e-3].
  void fill_dummy(float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>((rng_.uniform() * 2 - 1) * 1e-3);
  }

  // A dummy matrix written straight into the target format through a small fp32 buffer (the same values, in the
  // same order, as filling it whole): an fp32 copy of a 32000 × 2048 embedding would add 262 MB to peak memory.
  std::unique_ptr<WeightMatrix> dummy_dense(int64_t n_out, int64_t n_in) {
    constexpr int64_t kChunk = int64_t{1} << 16;
    const int64_t n = n_out * n_in;
    const size_t element = format_element_size(target_);
    std::vector<uint8_t> bytes(n * element);
    std::vector<float> chunk(std::min(n, kChunk));
    for (int64_t i = 0; i < n; i += kChunk) {
      const int64_t len = std::min(kChunk, n - i);
      fill_dummy(chunk.data(), len);
      store_f32_as(chunk.data(), len, target_, bytes.data() + i * element);
    }
    const void* ptr = bytes.data();
    return dense(target_, ptr, n_out, n_in, std::move(bytes));
  }

  // A dense matrix in `format` over `data` (owned when `owned` holds it, else mapped): as it is, or as bf16 panels
  // (WeightLoadOptions::bf16_panels), after which the source is dropped.
  std::unique_ptr<WeightMatrix> dense(WeightFormat format, const void* data, int64_t n_out, int64_t n_in,
                                      std::vector<uint8_t> owned) {
    if (format != WeightFormat::kBF16 || !options_.bf16_panels || !bf16_panels_pay_off()) {
      return make_dense_weight(format, data, n_out, n_in, std::move(owned));
    }
    auto panels = make_bf16_panel_weight(static_cast<const uint16_t*>(data), n_out, n_in);
    if (owned.empty() && checkpoint_ != nullptr) checkpoint_->release(data, size_t(n_out * n_in) * 2);
    return panels;
  }

  // dense_from_f32 in the target format, through dense() (panels where they apply).
  std::unique_ptr<WeightMatrix> from_f32(const float* values, int64_t n_out, int64_t n_in) {
    std::vector<uint8_t> bytes(size_t(n_out * n_in) * format_element_size(target_));
    store_f32_as(values, n_out * n_in, target_, bytes.data());
    const void* ptr = bytes.data();
    return dense(target_, ptr, n_out, n_in, std::move(bytes));
  }

  // A weight stored in bitsandbytes' 4-bit serialization (a folder written by `pagedllm quantize` or by
  // transformers + bitsandbytes): loaded as it is, never dequantized.
  std::unique_ptr<WeightMatrix> bnb_4bit_matrix(const std::string& name, int64_t n_out, int64_t n_in) const {
    for (const char* type : {"nf4", "fp4"}) {
      const TensorView* state_json = checkpoint_->find(name + "." + bnb_quant_state_key(type));
      if (state_json == nullptr) continue;
      Bnb4bitState state;
      parse_bnb_quant_state_json(std::string_view(reinterpret_cast<const char*>(state_json->data), state_json->num_bytes), name, &state);
      if (state.shape != std::vector<int64_t>{n_out, n_in}) {
        throw_error(ErrorKind::kCorrupt, "{}: 4-bit tensor '{}' has shape [{}] but config.json implies [{}, {}]", dir_, name,
                    fmt::join(state.shape, ", "), n_out, n_in);
      }
      auto bytes = [&](const std::string& key, DType dtype) {
        const TensorView& t = checkpoint_->get(key);
        if (t.dtype != dtype) throw_error(ErrorKind::kCorrupt, "{}: tensor '{}' must be {}", dir_, key, dtype_name(dtype));
        return std::vector<uint8_t>(t.data, t.data + t.num_bytes);
      };
      auto floats = [&](const std::string& key) {
        const TensorView& t = checkpoint_->get(key);
        if (t.dtype != DType::kF32) throw_error(ErrorKind::kCorrupt, "{}: tensor '{}' must be F32", dir_, key);
        return tensor_to_f32(t);
      };
      state.weight = bytes(name, DType::kU8);
      state.quant_map = floats(name + ".quant_map");
      if (state.nested) {
        state.absmax_codes = bytes(name + ".absmax", DType::kU8);
        state.nested_absmax = floats(name + ".nested_absmax");
        state.nested_quant_map = floats(name + ".nested_quant_map");
      } else {
        state.absmax = floats(name + ".absmax");
      }
      return load_bnb_4bit(std::move(state), name);
    }
    return nullptr;
  }

  std::string dir_;
  const WeightLoadOptions& options_;
  std::unique_ptr<SafetensorsCheckpoint> checkpoint_;
  WeightFormat target_;
  Rng rng_;
};

}  // namespace

WeightTransform make_quantize_transform(const std::string& quantization, bool double_quant, int block_size) {
  if (quantization.empty() || quantization == "none") return nullptr;
  if (block_size < 2 || block_size > 4096 || block_size % 2 != 0) {
    throw_error(ErrorKind::kInvalidArgument, "--quant-block-size must be an even number from 2 to 4096, got {}",
                block_size);
  }
  QuantConfig q;
  q.format = parse_weight_format(quantization);
  q.double_quant = double_quant;
  q.block_size = block_size;
  return [q](const std::string&, const float* data, int64_t n_out, int64_t n_in) -> std::unique_ptr<WeightMatrix> {
    if (q.format == WeightFormat::kQ8_0 && n_in % 32 != 0) return nullptr;
    // 4-bit codes pack two weights a byte along a row: an odd row length (a tensor-parallel slice such as
    // stories260K's down_proj over 4 ranks, 43 columns) is kept as loaded, as Q8_0 keeps rows of partial blocks.
    const bool is_4bit = q.format == WeightFormat::kNF4 || q.format == WeightFormat::kFP4 || q.format == WeightFormat::kInt4;
    if (is_4bit && n_in % 2 != 0) return nullptr;
    return quantize_weight(data, n_out, n_in, q);
  };
}

ModelWeights load_model_weights(const std::string& model_dir, const WeightLoadOptions& options) {
  check_kv_cache_dtype_name(options.kv_cache_dtype);
  ModelWeights w;
  w.config = load_model_config(model_dir);
  const ModelConfig& c = w.config;
  WeightSource source(model_dir, options, c);
  const int64_t h = c.hidden_size;

  w.shard = options.shard;
  w.shard_config = shard_model_config(c, options.shard.size);
  w.embed_tokens = source.matrix(tensor_names::kEmbedTokens, c.vocab_size, h, nullptr);
  w.layers.resize(c.num_hidden_layers);
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    LayerWeights& L = w.layers[l];
    L.input_layernorm = source.vector(tensor_names::input_layernorm(l), h, 1.0f);
    L.post_attention_layernorm = source.vector(tensor_names::post_attention_layernorm(l), h, 1.0f);
    for (int m = 0; m < kNumLinearModules; ++m) {
      const LinearModuleShape shape = linear_module_shape(c, m);
      const MatrixSlice slice = linear_module_slice(c, m, options.shard);
      L.linears[m] = source.matrix(tensor_names::linear_weight(l, m), shape.n_out, shape.n_in, options.transform_linear, slice);
      if (!shape.has_bias) continue;
      std::vector<float> bias = source.vector(tensor_names::linear_bias(l, m), shape.n_out, 0.0f);
      if (!slice.splits_input) {
        L.biases[m].assign(bias.begin() + slice.begin, bias.begin() + slice.begin + slice.count);
      } else if (options.shard.rank == 0) {
        L.biases[m] = std::move(bias);  // a row-parallel output is summed over the ranks: its bias is added once
      }
    }
  }
  w.norm = source.vector(tensor_names::kFinalNorm, h, 1.0f);
  const bool tied = is_lm_head_tied(c);
  if (tied && !options.transform_lm_head && !options.shard.is_sharded()) {
    w.lm_head = w.embed_tokens;
  } else if (tied && !options.transform_lm_head) {
    w.lm_head = WeightSource::copy_rows(*w.embed_tokens, vocab_slice(c.vocab_size, options.shard));
  } else {
    // A tied head quantized apart from the embeddings (transform_lm_head) is read from the embedding tensor.
    const char* name = tied ? tensor_names::kEmbedTokens : tensor_names::kLmHead;
    MatrixSlice rows;
    if (options.shard.is_sharded()) rows = vocab_slice(c.vocab_size, options.shard);
    w.lm_head = source.matrix(name, c.vocab_size, h, options.transform_lm_head, rows);
  }
  w.checkpoint = source.release_checkpoint();
  // "auto" follows the blocks' linear layers as loaded: fp32 there keeps an fp32 cache (exact outputs of fp32
  // checkpoints and of --dtype float32); 16-bit and quantized layers get a bf16 cache.
  const WeightMatrix& first_linear = c.num_hidden_layers > 0 ? w.layers[0].linear(0) : *w.embed_tokens;
  w.config.kv_cache_dtype = resolve_kv_cache_dtype(options.kv_cache_dtype, first_linear.format() == WeightFormat::kF32);
  w.shard_config.kv_cache_dtype = w.config.kv_cache_dtype;  // a rank's cache holds its heads in the same dtype
#if defined(__GLIBC__)
  // The row-major copies that BF16 panels (and dtype conversions) were made from are freed as loading goes, and
  // glibc serves blocks under its 32 MB mmap threshold from the heap, where a freed one stays resident: TinyLlama's
  // load left 122 MB of them. Returned to the kernel here.
  malloc_trim(0);
#endif
  return w;
}

size_t ModelWeights::num_bytes() const {
  size_t total = embed_tokens->num_bytes() + norm.size() * 4;
  if (lm_head != embed_tokens) total += lm_head->num_bytes();
  for (const auto& L : layers) {
    for (const auto& m : L.linears) total += m->num_bytes();
    total += (L.input_layernorm.size() + L.post_attention_layernorm.size()) * 4;
    for (const std::vector<float>& bias : L.biases) total += bias.size() * 4;
  }
  return total;
}

}  // namespace pagedllm
