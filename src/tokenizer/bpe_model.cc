#include "tokenizer/bpe_model.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "tokenizer/json_fields.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace pagedllm {

namespace {

std::pair<std::string, std::string> parse_merge(const nlohmann::json& merge, size_t index) {
  if (merge.is_string()) {
    const std::string& line = merge.get_ref<const std::string&>();
    const size_t space = line.find(' ');
    if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
      throw_error(ErrorKind::kCorrupt, "BPE merge {} ({:?}) is not two tokens separated by one space", index, line);
    }
    return {line.substr(0, space), line.substr(space + 1)};
  }
  if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
    return {merge[0].get<std::string>(), merge[1].get<std::string>()};
  }
  throw_error(ErrorKind::kCorrupt, "BPE merge {} is neither \"a b\" nor [\"a\", \"b\"]", index);
}

std::string optional_string(const nlohmann::json& config, const char* key) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return {};
  if (!it->is_string()) throw_error(ErrorKind::kCorrupt, "BPE model: field \"{}\" must be a string", key);
  return it->get<std::string>();
}

}  // namespace

BpeModel::BpeModel(const nlohmann::json& config) {
  continuing_subword_prefix_ = optional_string(config, "continuing_subword_prefix");
  end_of_word_suffix_ = optional_string(config, "end_of_word_suffix");
  const auto& vocab = required_field(config, "vocab", "BPE model");
  if (!vocab.is_object()) throw_error(ErrorKind::kCorrupt, "BPE model: \"vocab\" must be an object");
  vocab_.reserve(vocab.size());
  for (const auto& [token, id] : vocab.items()) {
    // Ids index id_to_token_, so they are bounded well below INT32_MAX.
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= (int64_t{1} << 26)) {
      throw_error(ErrorKind::kCorrupt, "BPE model: vocab entry {:?} has no valid id", token);
    }
    const auto i = id.get<int32_t>();
    vocab_[token] = i;
    if (static_cast<size_t>(i) >= id_to_token_.size()) id_to_token_.resize(i + 1);
    id_to_token_[i] = token;
  }
  if (continuing_subword_prefix_.empty() && end_of_word_suffix_.empty()) {
    bmp_char_ids_.assign(0x10000, -1);
    for (const auto& [token, i] : vocab_) {
      size_t pos = 0;
      if (token.empty()) continue;
      const char32_t c = next_code_point(token, pos);
      if (pos == token.size() && c < 0x10000) bmp_char_ids_[c] = i;
    }
  }
  fuse_unk_ = bool_field(config, "fuse_unk", false);
  byte_fallback_ = bool_field(config, "byte_fallback", false);
  ignore_merges_ = bool_field(config, "ignore_merges", false);
  const std::string unk = optional_string(config, "unk_token");
  if (!unk.empty()) {
    const auto it = vocab_.find(unk);
    if (it == vocab_.end()) throw_error(ErrorKind::kCorrupt, "BPE model: unk_token {:?} is not in the vocab", unk);
    unk_id_ = it->second;
  }
  for (int b = 0; b < 256; ++b) {
    const auto it = vocab_.find(fmt::format("<0x{:02X}>", b));
    byte_fallback_ids_[b] = it == vocab_.end() ? -1 : it->second;
  }

  const auto it = config.find("merges");
  if (it == config.end() || it->is_null()) return;
  if (!it->is_array()) throw_error(ErrorKind::kCorrupt, "BPE model: \"merges\" must be an array");
  std::unordered_map<uint64_t, MergeTarget> merges;
  merges.reserve(it->size());
  const size_t prefix_len = continuing_subword_prefix_.size();
  for (size_t rank = 0; rank < it->size(); ++rank) {
    const auto [left, right] = parse_merge((*it)[rank], rank);
    const auto left_id = token_to_id(left);
    const auto right_id = token_to_id(right);
    const std::string merged = left + (right.size() >= prefix_len ? right.substr(prefix_len) : std::string());
    const auto merged_id = token_to_id(merged);
    if (!left_id || !right_id || !merged_id) {
      throw_error(ErrorKind::kCorrupt, "BPE merge {} ({:?} + {:?}) uses a token missing from the vocab", rank, left,
                  right);
    }
    const uint64_t key =
        (static_cast<uint64_t>(static_cast<uint32_t>(*left_id)) << 32) | static_cast<uint32_t>(*right_id);
    merges[key] = {static_cast<uint32_t>(rank), *merged_id};  // a repeated pair keeps its last rank, as in HF
  }
  merges_.build(merges);
}

void BpeModel::MergeTable::build(const std::unordered_map<uint64_t, MergeTarget>& merges) {
  size_t capacity = 16;
  shift = 60;
  while (capacity < merges.size() * 2) {
    capacity *= 2;
    --shift;
  }
  slots.assign(capacity, Slot{});
  mask = capacity - 1;
  for (const auto& [key, target] : merges) {
    size_t i = (key * 0x9E3779B97F4A7C15ull) >> shift;
    while (slots[i].key != kEmpty) i = (i + 1) & mask;
    slots[i] = {key, target};
  }
}

const BpeModel::MergeTarget* BpeModel::MergeTable::find(uint64_t key) const {
  if (slots.empty()) return nullptr;
  for (size_t i = (key * 0x9E3779B97F4A7C15ull) >> shift;; i = (i + 1) & mask) {
    if (slots[i].key == key) return &slots[i].target;
    if (slots[i].key == kEmpty) return nullptr;
  }
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
  const auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size()) return nullptr;
  const std::string& token = id_to_token_[id];
  // "" is never a vocabulary entry that BPE produces, but a file may still list it.
  if (token.empty() && !vocab_.contains(std::string_view())) return nullptr;
  return &token;
}

const BpeModel::MergeTarget* BpeModel::find_merge(int32_t left, int32_t right) const {
  return merges_.find((static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right));
}

void BpeModel::tokenize(std::string_view piece, std::vector<int32_t>& ids) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    if (const auto id = token_to_id(piece)) {
      ids.push_back(*id);
      return;
    }
  }
  const bool is_cacheable = piece.size() < kMaxCachedWordBytes;
  if (is_cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto it = cache_.find(piece);
    if (it != cache_.end()) {
      ids.insert(ids.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> word;
  merge_word(piece, word);
  ids.insert(ids.end(), word.begin(), word.end());
  if (is_cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() < kMaxCacheEntries) cache_.emplace(std::string(piece), std::move(word));
  }
}

// Splits the piece into per-character symbols (with prefix/suffix, byte fallback and unk fusing as HF's
// merge_word), then applies the merges.
void BpeModel::merge_word(std::string_view piece, std::vector<int32_t>& symbols) const {
  int32_t pending_unk = -1;
  std::string affixed;
  size_t pos = 0;
  while (pos < piece.size()) {
    const size_t begin = pos;
    const auto char_length = static_cast<size_t>(utf8_sequence_length(static_cast<unsigned char>(piece[pos])));
    pos += std::min(piece.size() - pos, char_length);
    std::string_view symbol = piece.substr(begin, pos - begin);
    if (!bmp_char_ids_.empty() && symbol.size() <= 3) {
      size_t at = 0;
      const int32_t id = bmp_char_ids_[next_code_point(symbol, at)];
      if (id >= 0) {
        if (pending_unk >= 0) symbols.push_back(pending_unk);
        pending_unk = -1;
        symbols.push_back(id);
        continue;
      }
    }
    if ((begin != 0 && !continuing_subword_prefix_.empty()) || (pos == piece.size() && !end_of_word_suffix_.empty())) {
      affixed.clear();
      if (begin != 0) affixed.append(continuing_subword_prefix_);
      affixed.append(symbol);
      if (pos == piece.size()) affixed.append(end_of_word_suffix_);
      symbol = affixed;
    }
    if (const auto id = token_to_id(symbol)) {
      if (pending_unk >= 0) symbols.push_back(pending_unk);
      pending_unk = -1;
      symbols.push_back(*id);
      continue;
    }
    if (byte_fallback_) {
      const bool has_all = std::all_of(symbol.begin(), symbol.end(), [&](char ch) {
        return byte_fallback_ids_[static_cast<unsigned char>(ch)] >= 0;
      });
      if (has_all) {
        for (char ch : symbol) symbols.push_back(byte_fallback_ids_[static_cast<unsigned char>(ch)]);
        continue;
      }
    }
    if (unk_id_) {
      if (pending_unk >= 0 && !fuse_unk_) symbols.push_back(pending_unk);
      pending_unk = *unk_id_;
    }
  }
  if (pending_unk >= 0) symbols.push_back(pending_unk);
  apply_merges(symbols);
}

void BpeModel::apply_merges(std::vector<int32_t>& ids) const {
  const int n = static_cast<int>(ids.size());
  if (n < 2) return;
  struct Symbol {
    int32_t id;
    int prev;
    int next;
    bool is_removed;
  };
  struct Candidate {
    uint32_t rank;
    int pos;
    int32_t new_id;
    // std::priority_queue pops the largest: make the lowest rank, then the leftmost position, the largest.
    bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::vector<Symbol> symbols(n);
  std::vector<Candidate> heap;
  heap.reserve(n);
  for (int i = 0; i < n; ++i) symbols[i] = {ids[i], i - 1, i + 1 < n ? i + 1 : -1, false};
  for (int i = 0; i + 1 < n; ++i) {
    if (const MergeTarget* m = find_merge(ids[i], ids[i + 1])) heap.push_back({m->rank, i, m->new_id});
  }
  std::make_heap(heap.begin(), heap.end());
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& cur = symbols[top.pos];
    if (cur.is_removed || cur.next < 0) continue;
    const int next_pos = cur.next;
    const MergeTarget* m = find_merge(cur.id, symbols[next_pos].id);
    if (m == nullptr || m->new_id != top.new_id) continue;  // stale entry
    cur.id = top.new_id;
    symbols[next_pos].is_removed = true;
    cur.next = symbols[next_pos].next;
    if (cur.next >= 0) symbols[cur.next].prev = top.pos;
    if (cur.prev >= 0) {
      if (const MergeTarget* pm = find_merge(symbols[cur.prev].id, cur.id)) {
        heap.push_back({pm->rank, cur.prev, pm->new_id});
        std::push_heap(heap.begin(), heap.end());
      }
    }
    if (cur.next >= 0) {
      if (const MergeTarget* nm = find_merge(cur.id, symbols[cur.next].id)) {
        heap.push_back({nm->rank, top.pos, nm->new_id});
        std::push_heap(heap.begin(), heap.end());
      }
    }
  }
  ids.clear();
  for (int i = 0; i != -1; i = symbols[i].next) ids.push_back(symbols[i].id);
}

}  // namespace pagedllm
