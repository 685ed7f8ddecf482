// What rank 0 tells the other ranks of a tensor-parallel run, and in which bytes. Rank 0 alone runs the tokenizer,
// scheduler and sampler; each step it broadcasts the flattened batch (ForwardBatch's arrays) and the copy-on-write
// block copies, and between steps the control messages: load a LoRA adapter, shut down. Workers
// (tensor_parallel_worker.h) replay each message on their own weights and KV cache.
//
// On the wire: one broadcast of a fixed header of int64 (command, sizes, payload bytes), then one of the payload.
// Every rank runs the same binary on the same kind of machine, so values travel in native layout.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dist/communicator.h"
#include "model/forward_batch.h"

namespace pagedllm {

enum class WorkerCommand : int64_t { kStep = 1, kAddLora = 2, kShutdown = 3 };

// A step as a worker receives it: owned arrays and a ForwardBatch over them.
struct StepMessage {
  std::vector<int32_t> token_ids, query_start, seq_lens, block_tables, logits_rows, lora_slots;
  std::vector<int64_t> positions, slot_mapping;
  std::vector<std::pair<int, int>> blocks_to_copy;
  ForwardBatch batch;  // points into the vectors above; n_tokens 0 when the step only copies blocks
};

struct WorkerMessage {
  WorkerCommand command = WorkerCommand::kShutdown;
  StepMessage step;            // kStep
  std::string lora_name;       // kAddLora
  std::string lora_dir;        // kAddLora
};

// A message in its bytes: the fixed header (command, sizes, payload bytes) and the payload. encode_* and
// decode_worker_message are the pure halves of send_* / receive_worker_message.
struct EncodedMessage {
  std::array<int64_t, 8> header{};
  std::vector<char> payload;
};
EncodedMessage encode_step(const ForwardBatch& batch, const std::vector<std::pair<int, int>>& blocks_to_copy);
EncodedMessage encode_add_lora(const std::string& name, const std::string& dir);
EncodedMessage encode_shutdown();
// Throws Error(kCorrupt) for an unknown command or a payload shorter than the header says.
WorkerMessage decode_worker_message(const EncodedMessage& message);

// Rank 0's side. Every call is a collective: each worker must be in receive_worker_message.
void send_step(Communicator& comm, const ForwardBatch& batch, const std::vector<std::pair<int, int>>& blocks_to_copy);
void send_add_lora(Communicator& comm, const std::string& name, const std::string& dir);
void send_shutdown(Communicator& comm);

// Rank 0's end of a tensor-parallel run, owned by its engine: sends the steps and adapters, and the shutdown when
// the engine goes away so that the workers exit with it.
class WorkerLink {
 public:
  explicit WorkerLink(Communicator& comm) : comm_(comm) {}
  // Sends the shutdown and logs what this rank's collectives cost (collective_stats_line).
  ~WorkerLink();
  WorkerLink(const WorkerLink&) = delete;
  WorkerLink& operator=(const WorkerLink&) = delete;

  Communicator& comm() { return comm_; }
  void step(const ForwardBatch& batch, const std::vector<std::pair<int, int>>& blocks_to_copy) {
    send_step(comm_, batch, blocks_to_copy);
  }
  void add_lora(const std::string& name, const std::string& dir) { send_add_lora(comm_, name, dir); }

 private:
  Communicator& comm_;
};

// One log line: calls, bytes and seconds of this rank's all-reduces, all-gathers and broadcasts so far.
std::string collective_stats_line(const Communicator& comm);

// A worker's side: waits for rank 0's next message.
WorkerMessage receive_worker_message(Communicator& comm);

}  // namespace pagedllm
