// EngineCore::add_lora at run time under tensor parallelism (the path of the Python LLM's LoRARequest): rank 0 loads
// the adapter and sends it to the workers (WorkerCommand::kAddLora), which shard it as their modules. Run by
// add_lora.sh, which trains the adapter (over the fp32 base) and then starts
//   tests/mpi_run.sh 2 tensor_parallel_add_lora ADAPTER_DIR
// Rank 1 serves rank 0's engine; rank 0 compares its tokens with a one-process engine that loads the same adapter.
// Exit status 0 when they agree, 1 otherwise.
#include <cstdio>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "engine/llm.h"
#include "engine/tensor_parallel_worker.h"

namespace {

const std::string kModel = PAGEDLLM_SOURCE_DIR "/models/stories260K";

pagedllm::EngineArgs engine_args(int tp) {
  pagedllm::EngineArgs a;
  a.model = kModel;
  a.quantization = "none";  // the adapter below is trained over the fp32 base
  a.num_kv_blocks = 64;
  a.tensor_parallel_size = tp;
  return a;
}

std::vector<std::vector<int32_t>> greedy(pagedllm::LLM& llm, const std::string& lora) {
  pagedllm::SamplingParams p;
  p.temperature = 0;
  p.max_tokens = 24;
  const std::vector<pagedllm::PromptInput> prompts = {{"What is the name of the dog?", {}, true}, {"Once upon a time", {}, true}};
  std::vector<std::vector<int32_t>> out;
  for (const auto& r : llm.generate(prompts, {p, p}, {lora, lora})) out.push_back(r.outputs[0].token_ids);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s ADAPTER_DIR (under tests/mpi_run.sh 2)\n", argv[0]);
    return 2;
  }
  pagedllm::Communicator& world = pagedllm::Communicator::world();
  const std::string adapter = argv[1];
  if (pagedllm::run_tensor_parallel_worker(engine_args(world.size()))) return 0;

  pagedllm::LLM reference(engine_args(1));
  reference.engine().add_lora("dog", adapter);
  pagedllm::LLM tp(engine_args(world.size()));
  const auto base = greedy(tp, "");
  tp.engine().add_lora("dog", adapter);
  const auto adapted = greedy(tp, "dog");
  const auto expected = greedy(reference, "dog");
  if (adapted != expected) {
    std::fprintf(stderr, "FAIL: the adapter's tokens under tensor parallelism differ from one process's\n");
    return 1;
  }
  if (adapted == base) {
    std::fprintf(stderr, "FAIL: the adapter changed nothing (it was not applied)\n");
    return 1;
  }
  std::printf("PASS: %zu prompts, adapter loaded at run time on %d ranks gives one process's tokens\n", adapted.size(),
              world.size());
  return 0;
}
