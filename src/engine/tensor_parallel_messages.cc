#include "engine/tensor_parallel_messages.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <iostream>
#include <cstring>

#include "util/error.h"

namespace pagedllm {
namespace {

// Header fields, in order.
enum Field { kCommand, kNumTokens, kNumSeqs, kMaxBlocksPerSeq, kNumLogits, kHasLoraSlots, kNumBlockCopies, kPayloadBytes, kNumFields };
using Header = std::array<int64_t, kNumFields>;
static_assert(std::tuple_size_v<decltype(EncodedMessage::header)> == kNumFields);

class PayloadWriter {
 public:
  template <typename T>
  void put(const T* values, int64_t count) {
    if (count <= 0) return;
    const size_t at = bytes_.size();
    bytes_.resize(at + size_t(count) * sizeof(T));
    std::memcpy(bytes_.data() + at, values, size_t(count) * sizeof(T));
  }
  std::vector<char>& bytes() { return bytes_; }

 private:
  std::vector<char> bytes_;
};

class PayloadReader {
 public:
  explicit PayloadReader(const std::vector<char>& bytes) : bytes_(bytes) {}
  template <typename T>
  void get(std::vector<T>& out, int64_t count) {
    if (count < 0 || at_ + size_t(count) * sizeof(T) > bytes_.size()) {
      throw_error(ErrorKind::kCorrupt, "tensor-parallel message shorter than its header says");
    }
    out.resize(size_t(count));
    if (count > 0) std::memcpy(out.data(), bytes_.data() + at_, size_t(count) * sizeof(T));
    at_ += size_t(count) * sizeof(T);
  }

 private:
  const std::vector<char>& bytes_;
  size_t at_ = 0;
};

EncodedMessage finish(Header header, std::vector<char> payload) {
  header[kPayloadBytes] = static_cast<int64_t>(payload.size());
  return {header, std::move(payload)};
}

void send(Communicator& comm, EncodedMessage m) {
  comm.broadcast(m.header.data(), sizeof(m.header));
  if (!m.payload.empty()) comm.broadcast(m.payload.data(), static_cast<int64_t>(m.payload.size()));
}

}  // namespace

EncodedMessage encode_step(const ForwardBatch& b, const std::vector<std::pair<int, int>>& blocks_to_copy) {
  Header h{};
  h[kCommand] = int64_t(WorkerCommand::kStep);
  h[kNumTokens] = b.n_tokens;
  h[kNumSeqs] = b.num_seqs;
  h[kMaxBlocksPerSeq] = b.max_blocks_per_seq;
  h[kNumLogits] = b.num_logits;
  h[kHasLoraSlots] = b.lora_slots != nullptr;
  h[kNumBlockCopies] = int64_t(blocks_to_copy.size());
  PayloadWriter w;
  w.put(b.token_ids, b.n_tokens);
  w.put(b.positions, b.n_tokens);
  w.put(b.slot_mapping, b.n_tokens);
  w.put(b.query_start, b.num_seqs + 1);
  w.put(b.seq_lens, b.num_seqs);
  w.put(b.block_tables, int64_t(b.num_seqs) * b.max_blocks_per_seq);
  w.put(b.logits_rows, b.num_logits);
  if (b.lora_slots != nullptr) w.put(b.lora_slots, b.num_seqs);
  for (const auto& [src, dst] : blocks_to_copy) {
    const int32_t pair[2] = {src, dst};
    w.put(pair, 2);
  }
  return finish(h, std::move(w.bytes()));
}

EncodedMessage encode_add_lora(const std::string& name, const std::string& dir) {
  Header h{};
  h[kCommand] = int64_t(WorkerCommand::kAddLora);
  PayloadWriter w;
  w.put(name.c_str(), int64_t(name.size()) + 1);  // NUL-separated
  w.put(dir.c_str(), int64_t(dir.size()) + 1);
  return finish(h, std::move(w.bytes()));
}

EncodedMessage encode_shutdown() {
  Header h{};
  h[kCommand] = int64_t(WorkerCommand::kShutdown);
  return finish(h, {});
}

void send_step(Communicator& comm, const ForwardBatch& batch, const std::vector<std::pair<int, int>>& blocks_to_copy) {
  send(comm, encode_step(batch, blocks_to_copy));
}
void send_add_lora(Communicator& comm, const std::string& name, const std::string& dir) {
  send(comm, encode_add_lora(name, dir));
}
void send_shutdown(Communicator& comm) { send(comm, encode_shutdown()); }

WorkerLink::~WorkerLink() {
  send_shutdown(comm_);
  std::cerr << collective_stats_line(comm_) << "\n";
}

std::string collective_stats_line(const Communicator& comm) {
  auto part = [](const char* name, const CollectiveStats& s) {
    return fmt::format("{} {} calls, {:.3f} MiB, {:.3f} s", name, s.calls, s.bytes / (1024.0 * 1024.0), s.seconds);
  };
  return fmt::format("INFO:     tensor-parallel rank {} collectives: {}; {}; {}", comm.rank(),
                     part("all-reduce", comm.all_reduce_stats()), part("all-gather", comm.all_gather_stats()),
                     part("broadcast", comm.broadcast_stats()));
}

WorkerMessage receive_worker_message(Communicator& comm) {
  EncodedMessage e;
  comm.broadcast(e.header.data(), sizeof(e.header));
  if (e.header[kPayloadBytes] < 0) throw_error(ErrorKind::kCorrupt, "tensor-parallel message with a negative size");
  e.payload.resize(static_cast<size_t>(e.header[kPayloadBytes]));
  if (!e.payload.empty()) comm.broadcast(e.payload.data(), e.header[kPayloadBytes]);
  return decode_worker_message(e);
}

WorkerMessage decode_worker_message(const EncodedMessage& e) {
  const Header& h = e.header;
  const std::vector<char>& payload = e.payload;
  WorkerMessage m;
  m.command = static_cast<WorkerCommand>(h[kCommand]);
  PayloadReader r(payload);
  switch (m.command) {
    case WorkerCommand::kShutdown:
      return m;
    case WorkerCommand::kAddLora: {
      const auto nul = std::find(payload.begin(), payload.end(), '\0');
      if (nul == payload.end() || payload.back() != '\0') throw_error(ErrorKind::kCorrupt, "malformed LoRA message");
      m.lora_name.assign(payload.begin(), nul);
      m.lora_dir.assign(nul + 1, payload.end() - 1);
      return m;
    }
    case WorkerCommand::kStep:
      break;
    default:
      throw_error(ErrorKind::kCorrupt, "unknown tensor-parallel command {}", h[kCommand]);
  }
  StepMessage& s = m.step;
  const int64_t n = h[kNumTokens], seqs = h[kNumSeqs];
  r.get(s.token_ids, n);
  r.get(s.positions, n);
  r.get(s.slot_mapping, n);
  r.get(s.query_start, seqs + 1);
  r.get(s.seq_lens, seqs);
  r.get(s.block_tables, seqs * h[kMaxBlocksPerSeq]);
  r.get(s.logits_rows, h[kNumLogits]);
  if (h[kHasLoraSlots]) r.get(s.lora_slots, seqs);
  std::vector<int32_t> copies;
  r.get(copies, 2 * h[kNumBlockCopies]);
  for (size_t i = 0; i + 1 < copies.size(); i += 2) s.blocks_to_copy.emplace_back(copies[i], copies[i + 1]);
  ForwardBatch& b = s.batch;
  b.n_tokens = n;
  b.token_ids = s.token_ids.data();
  b.positions = s.positions.data();
  b.slot_mapping = s.slot_mapping.data();
  b.num_seqs = static_cast<int>(seqs);
  b.query_start = s.query_start.data();
  b.seq_lens = s.seq_lens.data();
  b.block_tables = s.block_tables.data();
  b.max_blocks_per_seq = static_cast<int>(h[kMaxBlocksPerSeq]);
  b.num_logits = static_cast<int>(h[kNumLogits]);
  b.logits_rows = s.logits_rows.data();
  b.lora_slots = h[kHasLoraSlots] ? s.lora_slots.data() : nullptr;
  return m;
}

}  // namespace pagedllm
