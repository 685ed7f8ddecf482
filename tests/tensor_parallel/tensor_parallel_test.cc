// Tensor-parallel serving as a user runs it: `pagedllm ... --tensor-parallel-size N` under tests/mpi_run.sh N (real
// MPI ranks over loopback TCP) against the stories260K goldens and against one process with the same flags.
//
// Tolerances: greedy tokens are compared exactly. Logprobs are within 1e-4 of the goldens (as for one process) and
// within 2e-5 of one process: a rank's partial products are summed in rank order, so the sums round differently
// from one process's single product (about 1e-6 relative in the logits). The 4-bit formats quantize each rank's
// slice on its own blocks, so their weights differ from one process's by quantization noise: their perplexity is
// compared within 6%, and must stay above fp32's by 5% (the slices really are 4-bit).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "golden_data.h"
#include "run_command.h"

namespace pagedllm {
namespace {

using testing::quote;
using testing::run_command;

const std::string kBinary = PAGEDLLM_BINARY;
const std::string kMpiRun = "bash " PAGEDLLM_SOURCE_DIR "/tests/mpi_run.sh";
const std::string kHeldout = PAGEDLLM_SOURCE_DIR "/tests/data/heldout_stories.txt";

struct RunResult {
  int exit_code = -1;
  std::vector<nlohmann::json> outputs;  // one RequestOutput per prompt (generate --json)
  std::string out, err;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// `pagedllm ARGS` in one process (np 1) or as np ranks with -tp np.
RunResult pagedllm(int np, const std::string& args) {
  const std::string err = ::testing::TempDir() + "/pagedllm_tp_stderr.txt";
  const std::string command = np == 1 ? kBinary + " " + args
                                      : kMpiRun + " " + std::to_string(np) + " " + kBinary + " " + args + " -tp " +
                                            std::to_string(np);
  testing::CommandResult r = run_command(command + " 2>" + err);
  RunResult run;
  run.exit_code = r.exit_code;
  run.out = r.out;
  run.err = read_file(err);
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("{", 0) == 0) run.outputs.push_back(nlohmann::json::parse(line));
  }
  return run;
}

std::string generate(const std::string& flags) {
  return "generate --model " + testing::kStoriesDir + " --json " + flags;
}

int preemptions(const RunResult& r) {
  std::smatch m;
  const std::regex re("preemptions: ([0-9]+)");
  return std::regex_search(r.err, m, re) ? std::stoi(m[1]) : -1;
}

double perplexity(const RunResult& r) {
  std::smatch m;
  const std::regex re("perplexity: ([0-9.]+)");
  return std::regex_search(r.out, m, re) ? std::stod(m[1]) : -1.0;
}

class TensorParallel : public ::testing::TestWithParam<int> {};

TEST_P(TensorParallel, GreedyReproducesEveryGoldenAndOneProcessLogprobs) {
  std::string flags = "--temperature 0 --max-tokens 128 --logprobs 3";
  std::vector<testing::Golden> goldens;
  for (const auto& name : testing::golden_names()) {
    goldens.push_back(testing::load_golden(name));
    flags += " --prompt " + quote(goldens.back().prompt);
  }
  const RunResult one = pagedllm(1, generate(flags));
  const RunResult tp = pagedllm(GetParam(), generate(flags));
  ASSERT_EQ(tp.exit_code, 0) << tp.err;
  ASSERT_EQ(tp.outputs.size(), goldens.size()) << tp.out << tp.err;
  ASSERT_EQ(one.outputs.size(), goldens.size());
  for (size_t i = 0; i < goldens.size(); ++i) {
    const testing::Golden& g = goldens[i];
    const auto& out = tp.outputs[i]["outputs"][0];
    EXPECT_EQ(out["token_ids"].get<std::vector<int32_t>>(), g.greedy_token_ids) << g.name;
    ASSERT_EQ(out["logprobs"].size(), 128u);
    for (size_t t = 0; t < 128; ++t) {
      const std::vector<double> ref = g.log_probs(static_cast<int>(g.prompt_token_ids.size() + t - 1));
      const auto& single = one.outputs[i]["outputs"][0]["logprobs"][t];
      for (auto& [id, lp] : out["logprobs"][t].items()) {
        ASSERT_NEAR(lp.get<double>(), ref[std::stoi(id)], 1e-4) << g.name << " token " << t;
        ASSERT_NEAR(lp.get<double>(), single[id].get<double>(), 2e-5) << g.name << " token " << t;
      }
    }
  }
  // Each rank holds half (a quarter) of the KV heads: 4 KV heads over 2 ranks give 2, over 4 ranks 1.
  EXPECT_NE(tp.err.find("(" + std::to_string(4 / GetParam()) + " KV heads)"), std::string::npos) << tp.err;
}

INSTANTIATE_TEST_SUITE_P(Ranks, TensorParallel, ::testing::Values(2, 4),
                         [](const auto& info) { return "Tp" + std::to_string(info.param); });

// Seeded sampling with n = 2 (the prompt's blocks shared by the two samples, copy-on-write), chunked prefill (a
// 32-token step budget against prompts of up to 200 tokens) and preemption (24 blocks for 8 sequences that need up to
// 17 each): rank 0 schedules and samples exactly as one process does, so every sample is the same.
TEST(TensorParallelBatching, ChunkedPrefillPreemptionAndNMatchOneProcess) {
  std::string flags =
      "--temperature 0.8 --seed 7 --n 2 --max-tokens 64 --block-size 16 --num-kv-blocks 24 --max-model-len 272 "
      "--max-num-batched-tokens 32";
  for (const auto& name : testing::golden_names()) flags += " --prompt " + quote(testing::load_golden(name).prompt);
  const RunResult one = pagedllm(1, generate(flags));
  const RunResult tp = pagedllm(2, generate(flags));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  ASSERT_EQ(tp.exit_code, 0) << tp.err;
  ASSERT_EQ(tp.outputs.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_EQ(tp.outputs[i]["outputs"].size(), 2u);
    for (int s = 0; s < 2; ++s) {
      EXPECT_EQ(tp.outputs[i]["outputs"][s]["token_ids"], one.outputs[i]["outputs"][s]["token_ids"]) << i << "/" << s;
    }
  }
  EXPECT_GT(preemptions(one), 0) << one.err;
  EXPECT_EQ(preemptions(tp), preemptions(one)) << tp.err;
}

// Dense storage formats and the 8-bit formats (whose blocks run along a row and split on the rank boundaries here)
// give one process's greedy tokens; the 4-bit formats give one process's perplexity within quantization noise.
TEST(TensorParallelFormats, EveryWeightFormatServes) {
  const std::string prompt = " --temperature 0 --max-tokens 48 --prompt " + quote("Once upon a time");
  for (const char* format : {"--dtype bfloat16", "--dtype float16", "--quantization q8_0", "--quantization int8"}) {
    const RunResult one = pagedllm(1, generate(format + prompt));
    for (int np : {2, 4}) {
      const RunResult tp = pagedllm(np, generate(format + prompt));
      ASSERT_EQ(tp.exit_code, 0) << format << tp.err;
      ASSERT_EQ(tp.outputs.size(), 1u) << format;
      EXPECT_EQ(tp.outputs[0]["outputs"][0]["token_ids"], one.outputs[0]["outputs"][0]["token_ids"]) << format << " tp " << np;
    }
  }
  const std::string ppl = "perplexity --model " + testing::kStoriesDir + " --file " + kHeldout + " --context 256 ";
  const double fp32 = perplexity(pagedllm(1, ppl));
  EXPECT_NEAR(perplexity(pagedllm(2, ppl)), fp32, 1e-4);
  for (const char* format : {"nf4", "fp4", "int4"}) {
    const double one = perplexity(pagedllm(1, ppl + "--quantization " + format));
    for (int np : {2, 4}) {
      const double tp = perplexity(pagedllm(np, ppl + "--quantization " + format));
      EXPECT_NEAR(tp, one, 0.06 * one) << format << " tp " << np;
      EXPECT_GT(tp, 1.05 * fp32) << format << " tp " << np;
    }
  }
}

// A pre-quantized NF4 folder (double quantization) whose blocks (2 weights, the only size that divides both
// o_proj's 32-column and down_proj's 86-column bands) fall on the rank boundaries: each rank takes exactly the whole
// matrix's codes and scales for its band, so the tokens are one process's and the logprobs within rounding.
TEST(TensorParallelFormats, PreQuantizedFolderSplitsOnBlockBoundaries) {
  const std::string folder = ::testing::TempDir() + "/pagedllm_tp_nf4_blocks_of_2";
  std::filesystem::remove_all(folder);
  ASSERT_EQ(run_command(kBinary + " quantize --model " + testing::kStoriesDir +
                        " --quantization nf4 --quant-block-size 2 --output " + folder + " >/dev/null 2>&1").exit_code, 0);
  const std::string args = "generate --model " + folder + " --json --temperature 0 --max-tokens 48 --logprobs 1 " +
                           "--prompt " + quote("Once upon a time") + " --prompt " + quote("Lily and Tom");
  const RunResult one = pagedllm(1, args);
  const RunResult tp = pagedllm(2, args);
  ASSERT_EQ(tp.exit_code, 0) << tp.err;
  ASSERT_EQ(tp.outputs.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const auto& a = tp.outputs[i]["outputs"][0];
    const auto& b = one.outputs[i]["outputs"][0];
    EXPECT_EQ(a["token_ids"], b["token_ids"]) << i;
    for (size_t t = 0; t < a["logprobs"].size(); ++t) {
      for (auto& [id, lp] : a["logprobs"][t].items()) EXPECT_NEAR(lp.get<double>(), b["logprobs"][t][id].get<double>(), 2e-5);
    }
  }
}

// An adapter trained over the fp32 base (so that one process and the ranks serve the same base): its A of the
// row-parallel modules and B of the column-parallel ones are split like their modules.
TEST(TensorParallelLora, AdapterOutputMatchesOneProcess) {
  const std::string data = PAGEDLLM_SOURCE_DIR "/tests/data/stories_instructions.jsonl";
  const std::string adapter = ::testing::TempDir() + "/pagedllm_tp_lora_adapter";
  std::filesystem::remove_all(adapter);
  const testing::CommandResult trained =
      run_command(kBinary + " finetune --model " + testing::kStoriesDir + " --data " + data + " --output " + adapter +
                  " --quantization none --lora-r 4 --learning-rate 1e-2 --max-steps 3 --batch-size 4 --quiet 2>&1");
  ASSERT_EQ(trained.exit_code, 0) << trained.out;
  const std::string flags = "--quantization none --temperature 0 --max-tokens 32 --logprobs 1 --prompt " +
                            quote("The dog is called") + " --prompt " + quote("Once upon a time");
  const RunResult base = pagedllm(1, generate(flags));
  const RunResult one = pagedllm(1, generate(flags + " --lora dog=" + adapter));
  const RunResult tp = pagedllm(2, generate(flags + " --lora dog=" + adapter));
  ASSERT_EQ(tp.exit_code, 0) << tp.err;
  ASSERT_EQ(tp.outputs.size(), 2u);
  EXPECT_NE(one.outputs[1]["outputs"][0]["logprobs"], base.outputs[1]["outputs"][0]["logprobs"]) << "adapter not applied";
  for (size_t i = 0; i < 2; ++i) {
    const auto& a = tp.outputs[i]["outputs"][0];
    const auto& b = one.outputs[i]["outputs"][0];
    EXPECT_EQ(a["token_ids"], b["token_ids"]) << i;
    for (size_t t = 0; t < a["logprobs"].size(); ++t) {
      for (auto& [id, lp] : a["logprobs"][t].items()) EXPECT_NEAR(lp.get<double>(), b["logprobs"][t][id].get<double>(), 2e-5);
    }
  }
}

TEST(TensorParallelErrors, SizesThatCannotWorkAreNamed) {
  const std::string flags = " --prompt hi --max-tokens 2";
  RunResult r = pagedllm(1, generate("--tensor-parallel-size 2" + flags));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--tensor-parallel-size 2 needs 2 processes, but this is 1: start it under `mpirun -np 2"),
            std::string::npos) << r.err;
  r = pagedllm(1, generate("-pp 2" + flags));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--pipeline-parallel-size 2: pipeline parallelism is not implemented"), std::string::npos) << r.err;
  r = pagedllm(3, generate(flags));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--tensor-parallel-size 3 does not divide the model's num_attention_heads (8)"), std::string::npos)
      << r.err;
  // A folder written by `pagedllm quantize` with bnb's 64-weight blocks: o_proj's 64-wide rows cannot split in two.
  const std::string quantized = ::testing::TempDir() + "/pagedllm_tp_nf4_folder";
  std::filesystem::remove_all(quantized);
  ASSERT_EQ(run_command(kBinary + " quantize --model " + testing::kStoriesDir + " --quantization nf4 --output " +
                        quantized + " >/dev/null 2>&1").exit_code, 0);
  r = pagedllm(2, "generate --model " + quantized + flags);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("model.layers.0.self_attn.o_proj.weight': 4-bit blocks of 64 weights laid out for the whole "
                       "[64, 64] matrix; this rank's columns ["),
            std::string::npos) << r.err;
  const testing::CommandResult mismatch =
      run_command(kMpiRun + " 2 " + kBinary + " " + generate("--tensor-parallel-size 4" + flags) + " 2>&1");
  EXPECT_NE(mismatch.exit_code, 0);
  EXPECT_NE(mismatch.out.find("--tensor-parallel-size is 4 but mpirun started 2 processes"), std::string::npos)
      << mismatch.out;
}

}  // namespace
}  // namespace pagedllm
