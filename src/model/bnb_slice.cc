#include "model/bnb_slice.h"

#include <utility>
#include <vector>

#include "quant/block_scales.h"
#include "quant/bnb_serialization.h"
#include "util/error.h"

namespace pagedllm {

std::unique_ptr<WeightMatrix> slice_bnb_4bit(const WeightMatrix& whole, const MatrixSlice& slice, const std::string& what) {
  Bnb4bitState st = bnb_4bit_state(whole);
  const int64_t n_out = whole.n_out(), n_in = whole.n_in(), block = st.blocksize;
  // Runs of consecutive blocks, (first block, number of blocks), in the order the slice's elements are stored.
  std::vector<std::pair<int64_t, int64_t>> runs;
  auto refuse = [&](const char* band) {
    throw_error(ErrorKind::kUnsupported,
                "{}: 4-bit blocks of {} weights laid out for the whole [{}, {}] matrix; this rank's {} [{}, {}) does "
                "not fall on whole blocks, so tensor parallelism cannot split it. Serve the unquantized folder with "
                "--quantization (each rank quantizes its slice), or quantize with a --quant-block-size that divides "
                "the slices",
                what, block, n_out, n_in, band, slice.begin, slice.begin + slice.count);
  };
  if (!slice.splits_input) {
    if ((slice.begin * n_in) % block != 0 || (slice.count * n_in) % block != 0) refuse("rows");
    runs.emplace_back(slice.begin * n_in / block, slice.count * n_in / block);
  } else {
    if (n_in % block != 0 || slice.begin % block != 0 || slice.count % block != 0) refuse("columns");
    for (int64_t r = 0; r < n_out; ++r) runs.emplace_back((r * n_in + slice.begin) / block, slice.count / block);
  }
  const BlockScales scales = st.nested ? BlockScales::from_nested(st.absmax_codes, st.nested_absmax,
                                                                  static_cast<int>(st.nested_blocksize),
                                                                  st.nested_offset, st.nested_quant_map, what.c_str())
                                       : BlockScales::plain(st.absmax);
  Bnb4bitState part;
  part.quant_type = st.quant_type;
  part.blocksize = block;
  part.dtype = st.dtype;
  part.shape = {slice.splits_input ? n_out : slice.count, slice.splits_input ? slice.count : n_in};
  part.quant_map = st.quant_map;
  for (const auto& [first, count] : runs) {
    // Two codes a byte, and blocks hold an even number of codes: a block starts on a byte.
    part.weight.insert(part.weight.end(), st.weight.begin() + first * block / 2, st.weight.begin() + (first + count) * block / 2);
    const size_t at = part.absmax.size();
    part.absmax.resize(at + size_t(count));
    scales.dequantize(first, count, part.absmax.data() + at);
  }
  return load_bnb_4bit(std::move(part), what);
}

}  // namespace pagedllm
