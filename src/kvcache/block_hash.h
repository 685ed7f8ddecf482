// Content hashes of full KV blocks for prefix caching. A block's hash covers its parent block's hash (hence the
// whole prefix), its token ids and an extra key (the LoRA adapter id: the same tokens under different adapters
// have different keys and values). Two requests whose first k full blocks hash equal can share those k blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace pagedllm {

// 128-bit XXH3 digest; collisions are negligible at this width, so a hash match is treated as a content match.
struct BlockHash {
  uint64_t low = 0;
  uint64_t high = 0;
  friend bool operator==(const BlockHash&, const BlockHash&) = default;
};

struct BlockHashHasher {
  size_t operator()(const BlockHash& hash) const { return static_cast<size_t>(hash.low ^ (hash.high * 0x9e3779b97f4a7c15ULL)); }
};

// The parent of a sequence's first block. Fixed (not random as in vLLM) so hashes are reproducible across runs.
inline constexpr BlockHash kRootBlockHash{0x70616765646c6c6dULL, 0x6b76636163686521ULL};

// Hash of one full block: XXH3-128 over (parent hash, extra key, token ids), in host byte order (little-endian on x86).
BlockHash hash_block_tokens(const BlockHash& parent, std::span<const int32_t> block_token_ids, int64_t extra_key);

// The tokens of a request, prompt then generated output, as two spans so callers never build a joined copy.
struct TokenSequence {
  std::span<const int32_t> prompt;
  std::span<const int32_t> output;

  int size() const { return static_cast<int>(prompt.size() + output.size()); }
  int32_t operator[](int i) const {
    const auto index = static_cast<size_t>(i);
    return index < prompt.size() ? prompt[index] : output[index - prompt.size()];
  }
};

// Hashes of blocks [first_block, first_block + num_blocks) of `tokens`, chained from `parent` (the hash of block
// first_block - 1, or kRootBlockHash when first_block is 0). Every listed block must be full.
std::vector<BlockHash> hash_full_blocks(const TokenSequence& tokens, int block_size, int64_t extra_key,
                                        const BlockHash& parent, int first_block, int num_blocks);

}  // namespace pagedllm
