#include "engine/kv_cache_sizing.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include "model/paged_kv_cache.h"
#include "util/error.h"

namespace pagedllm {

int64_t available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemAvailable:", 0) == 0) {
      std::istringstream ss(line.substr(13));
      int64_t kib = 0;
      ss >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

int choose_num_kv_blocks(const EngineArgs& args, const ModelConfig& config, int max_model_len) {
  const int64_t block_bytes = static_cast<int64_t>(PagedKVCache::bytes_per_block(config, args.block_size));
  const int64_t blocks_per_request = (int64_t(max_model_len) + args.block_size - 1) / args.block_size;
  int64_t num_blocks = 0;
  if (args.num_kv_blocks > 0) {
    num_blocks = args.num_kv_blocks;
  } else if (args.kv_cache_memory > 0) {
    num_blocks = args.kv_cache_memory / block_bytes;
  } else {
    // A quarter of what is free, but never more than every sequence at full length could use.
    int64_t budget = available_memory_bytes() / 4;
    num_blocks = std::min<int64_t>(budget / block_bytes, blocks_per_request * args.max_num_seqs);
    num_blocks = std::max<int64_t>(num_blocks, std::min<int64_t>(blocks_per_request, budget / block_bytes));
  }
  if (num_blocks < blocks_per_request) {
    const int64_t fits = num_blocks * args.block_size;
    throw_error(ErrorKind::kResourceExhausted,
                "the KV cache has room for {} blocks ({} tokens, {} bytes per block), which cannot hold one request of "
                "--max-model-len {} tokens; the largest max-model-len that fits is {} (or raise --kv-cache-memory)",
                num_blocks, fits, block_bytes, max_model_len, fits);
  }
  if (num_blocks > (1 << 30)) num_blocks = 1 << 30;
  return static_cast<int>(num_blocks);
}

}  // namespace pagedllm
