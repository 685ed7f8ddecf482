#include "kvcache/block_hash.h"

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t as a complete type, so the state lives on the stack
#include <xxhash.h>

#include "util/error.h"

namespace pagedllm {

BlockHash hash_block_tokens(const BlockHash& parent, std::span<const int32_t> block_token_ids, int64_t extra_key) {
  XXH3_state_t state;
  XXH3_INITSTATE(&state);
  XXH3_128bits_reset(&state);
  XXH3_128bits_update(&state, &parent.low, sizeof(parent.low));
  XXH3_128bits_update(&state, &parent.high, sizeof(parent.high));
  XXH3_128bits_update(&state, &extra_key, sizeof(extra_key));
  XXH3_128bits_update(&state, block_token_ids.data(), block_token_ids.size_bytes());
  const XXH128_hash_t digest = XXH3_128bits_digest(&state);
  return BlockHash{digest.low64, digest.high64};
}

std::vector<BlockHash> hash_full_blocks(const TokenSequence& tokens, int block_size, int64_t extra_key,
                                        const BlockHash& parent, int first_block, int num_blocks) {
  PAGEDLLM_CHECK_MSG((first_block + num_blocks) * block_size <= tokens.size(),
                     "hashing blocks [{}, {}) of {} tokens with block size {}", first_block, first_block + num_blocks,
                     tokens.size(), block_size);
  std::vector<BlockHash> hashes;
  hashes.reserve(num_blocks);
  std::vector<int32_t> block_tokens(block_size);
  BlockHash prev = parent;
  for (int b = first_block; b < first_block + num_blocks; ++b) {
    for (int i = 0; i < block_size; ++i) block_tokens[i] = tokens[b * block_size + i];
    prev = hash_block_tokens(prev, block_tokens, extra_key);
    hashes.push_back(prev);
  }
  return hashes;
}

}  // namespace pagedllm
