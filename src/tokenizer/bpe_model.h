// The BPE model of tokenizer.json (Hugging Face tokenizers/src/models/bpe): byte-level (GPT-2 style) and
// SentencePiece-style (byte_fallback, fuse_unk), with ignore_merges, continuing_subword_prefix and
// end_of_word_suffix. Dropout is ignored (inference never samples merges).
//
// Merging follows HF exactly: the pair of lowest merge rank is merged first, ties go to the leftmost pair.
// Thread-safe: the word cache is guarded by a mutex.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pagedllm {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenIdMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

class BpeModel {
 public:
  // `config` is tokenizer.json's "model" object. Throws Error(kCorrupt) naming the bad field or merge.
  explicit BpeModel(const nlohmann::json& config);

  // Appends the ids of one pre-tokenized piece (non-empty, valid UTF-8) to `ids`.
  void tokenize(std::string_view piece, std::vector<int32_t>& ids) const;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  // Null when `id` is not in the vocabulary.
  const std::string* id_to_token(int32_t id) const;
  int32_t vocab_size() const { return static_cast<int32_t>(vocab_.size()); }
  const TokenIdMap& vocab() const { return vocab_; }

 private:
  struct MergeTarget {
    uint32_t rank;
    int32_t new_id;
  };
  // Open-addressing hash table (linear probing) from (left id << 32 | right id) to the merge: the BPE inner loop
  // spends most of its time here, and a flat table avoids a pointer chase per lookup.
  struct MergeTable {
    struct Slot {
      uint64_t key = kEmpty;
      MergeTarget target{};
    };
    static constexpr uint64_t kEmpty = ~uint64_t{0};
    std::vector<Slot> slots;
    uint64_t mask = 0;
    int shift = 64;  // 64 - log2(slots.size()): the slot is the top bits of a Fibonacci hash
    void build(const std::unordered_map<uint64_t, MergeTarget>& merges);
    const MergeTarget* find(uint64_t key) const;
  };
  void merge_word(std::string_view piece, std::vector<int32_t>& ids) const;
  void apply_merges(std::vector<int32_t>& symbols) const;
  const MergeTarget* find_merge(int32_t left, int32_t right) const;

  TokenIdMap vocab_;
  std::vector<std::string> id_to_token_;  // indexed by id; ids without a token map to "" and are not in vocab_
  MergeTable merges_;
  // Id of every single-character BMP token, by code point (-1: none), used when no subword prefix/suffix applies.
  std::vector<int32_t> bmp_char_ids_;
  std::optional<int32_t> unk_id_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  int32_t byte_fallback_ids_[256];  // id of "<0xHH>" or -1

  static constexpr size_t kMaxCachedWordBytes = 256;
  static constexpr size_t kMaxCacheEntries = 1 << 16;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> cache_;
};

}  // namespace pagedllm
