// The offline engine for Python: EngineArgs and SamplingParams as plain structs, and Engine, which runs a batch of
// prompts to completion like pagedllm::LLM::generate but with the GIL released during each engine step, Python's
// signal handlers run between steps (Ctrl-C aborts the batch and leaves the engine reusable) and a progress
// callback. Results are plain tuples; python/pagedllm/outputs.py turns them into RequestOutput objects.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <malloc.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bindings.h"
#include "engine/engine_core.h"
#include "util/error.h"

namespace py = pybind11;

namespace pagedllm::python {
namespace {

// Thread-safety: EngineCore is single-threaded, so generate() calls from several Python threads take turns on
// mutex_ (waiting without the GIL, so the thread that holds the engine can keep calling back into Python).
class Engine {
 public:
  explicit Engine(const EngineArgs& args) : core_(std::make_unique<EngineCore>(args)) {}
  ~Engine() { close_now(); }

  py::list generate(const std::vector<PromptInput>& prompts, const std::vector<SamplingParams>& params,
                    const std::vector<std::string>& lora_names, const py::object& on_progress);
  // Runs f(core) under the engine's mutex without the GIL; f must not touch Python objects.
  template <typename F>
  auto locked(F f) {
    py::gil_scoped_release release;
    std::lock_guard lock(mutex_);
    return f(core());
  }
  void add_lora(const std::string& name, const std::string& path) {
    locked([&](EngineCore& c) { c.add_lora(name, path); });
  }
  // Frees the model and the KV cache now (LLM.shutdown, `del llm`) and hands the freed heap back to the kernel.
  void close() {
    py::gil_scoped_release release;
    std::lock_guard lock(mutex_);
    close_now();
  }
 private:
  EngineCore& core() {
    if (!core_) throw Error(ErrorKind::kInvalidArgument, "the engine was shut down");
    return *core_;
  }
  // The model's buffers are large heap blocks that glibc would keep for reuse; trimming returns them.
  void close_now() {
    core_.reset();
    malloc_trim(0);
  }

  std::mutex mutex_;
  std::unique_ptr<EngineCore> core_;
  uint64_t next_request_id_ = 0;
};

py::tuple completion_tuple(const CompletionOutput& c) {
  py::object logprobs = py::none();
  if (c.logprobs) {
    py::list per_token;
    for (const auto& entry : *c.logprobs) {
      py::dict d;
      for (const auto& [id, lp] : entry) d[py::int_(id)] = py::make_tuple(lp.logprob, lp.rank, to_str(lp.decoded_token));
      per_token.append(d);
    }
    logprobs = per_token;
  }
  py::object stop_reason = py::none();
  if (auto* s = std::get_if<std::string>(&c.stop_reason)) stop_reason = to_str(*s);
  if (auto* t = std::get_if<int32_t>(&c.stop_reason)) stop_reason = py::int_(*t);
  py::object finish_reason = c.finish_reason ? py::object(py::str(finish_reason_name(*c.finish_reason))) : py::none();
  py::object cumulative = c.logprobs ? py::object(py::float_(c.cumulative_logprob)) : py::none();
  return py::make_tuple(c.index, to_str(c.text), py::cast(c.token_ids), cumulative, logprobs, finish_reason, stop_reason);
}

py::tuple request_tuple(const RequestOutput& r) {
  py::list outputs;
  for (const auto& c : r.outputs) outputs.append(completion_tuple(c));
  return py::make_tuple(r.request_id, to_str(r.prompt), py::cast(r.prompt_token_ids), outputs, r.finished);
}

// Called with the GIL held: the whole batch is added or none of it (a bad prompt withdraws the ones queued).
py::list Engine::generate(const std::vector<PromptInput>& prompts, const std::vector<SamplingParams>& params,
                          const std::vector<std::string>& lora_names, const py::object& on_progress) {
  if (params.size() != prompts.size() || (!lora_names.empty() && lora_names.size() != prompts.size())) {
    throw Error(ErrorKind::kInvalidArgument, "generate needs one SamplingParams and LoRA name per prompt");
  }
  std::vector<RequestOutput> results(prompts.size());
  {
    py::gil_scoped_release release;
    std::lock_guard lock(mutex_);
    EngineCore& engine = core();
    std::vector<std::string> ids;
    try {
      for (size_t i = 0; i < prompts.size(); ++i) {
        std::string id = std::to_string(next_request_id_++);
        engine.add_request(id, prompts[i], params[i], OutputKind::kFinalOnly, lora_names.empty() ? "" : lora_names[i],
                           [&results, i](const RequestOutput& out) { results[i] = out; });
        ids.push_back(id);
      }
      size_t num_reported = 0;
      while (engine.has_unfinished_requests()) {
        engine.step();
        size_t num_finished = 0;
        for (const auto& r : results) num_finished += r.finished ? 1 : 0;
        py::gil_scoped_acquire acquire;
        check_signals();
        if (!on_progress.is_none() && num_finished != num_reported) {
          on_progress(num_finished);
          num_reported = num_finished;
        }
      }
    } catch (...) {
      // Ctrl-C, a failing progress callback or a rejected prompt: nothing of this batch stays in the engine.
      for (const auto& id : ids) engine.abort_request(id);
      throw;
    }
  }
  py::list out;
  for (const auto& r : results) out.append(request_tuple(r));
  return out;
}

void bind_engine_args(py::module_& m) {
  py::class_<EngineArgs>(m, "EngineArgs", "Every engine setting (the flags of `pagedllm generate`/`serve`)")
      .def(py::init<>())
      .def_readwrite("model", &EngineArgs::model)
      .def_readwrite("tokenizer", &EngineArgs::tokenizer)
      .def_readwrite("load_format", &EngineArgs::load_format)
      .def_readwrite("dtype", &EngineArgs::dtype)
      .def_readwrite("quantization", &EngineArgs::quantization)
      .def_readwrite("double_quant", &EngineArgs::double_quant)
      .def_readwrite("quant_block_size", &EngineArgs::quant_block_size)
      .def_readwrite("quantize_lm_head", &EngineArgs::quantize_lm_head)
      .def_readwrite("block_size", &EngineArgs::block_size)
      .def_readwrite("kv_cache_dtype", &EngineArgs::kv_cache_dtype)
      .def_readwrite("kv_cache_memory", &EngineArgs::kv_cache_memory)
      .def_readwrite("num_kv_blocks", &EngineArgs::num_kv_blocks)
      .def_readwrite("max_model_len", &EngineArgs::max_model_len)
      .def_readwrite("max_num_seqs", &EngineArgs::max_num_seqs)
      .def_readwrite("max_num_batched_tokens", &EngineArgs::max_num_batched_tokens)
      .def_readwrite("enable_chunked_prefill", &EngineArgs::enable_chunked_prefill)
      .def_readwrite("enable_prefix_caching", &EngineArgs::enable_prefix_caching)
      .def_readwrite("max_queued_requests", &EngineArgs::max_queued_requests)
      .def_readwrite("seed", &EngineArgs::seed)
      .def_readwrite("num_threads", &EngineArgs::num_threads)
      .def_readwrite("loras", &EngineArgs::loras)
      .def_readwrite("max_loras", &EngineArgs::max_loras)
      .def_readwrite("max_lora_rank", &EngineArgs::max_lora_rank);
}

void bind_sampling_params(py::module_& m) {
  py::class_<StructuredOutputsParams>(m, "StructuredOutputsParams",
                                      "The engine's StructuredOutputsParams (validated by pagedllm.StructuredOutputsParams)")
      .def(py::init<>())
      .def_readwrite("json", &StructuredOutputsParams::json)
      .def_readwrite("json_object", &StructuredOutputsParams::json_object)
      .def_readwrite("regex", &StructuredOutputsParams::regex)
      .def_readwrite("choice", &StructuredOutputsParams::choice)
      .def_readwrite("grammar", &StructuredOutputsParams::grammar)
      .def_readwrite("any_whitespace", &StructuredOutputsParams::any_whitespace);
  py::class_<SamplingParams>(m, "SamplingParams", "The engine's SamplingParams (validated by pagedllm.SamplingParams)")
      .def(py::init<>())
      .def_readwrite("n", &SamplingParams::n)
      .def_readwrite("presence_penalty", &SamplingParams::presence_penalty)
      .def_readwrite("frequency_penalty", &SamplingParams::frequency_penalty)
      .def_readwrite("repetition_penalty", &SamplingParams::repetition_penalty)
      .def_readwrite("temperature", &SamplingParams::temperature)
      .def_readwrite("top_p", &SamplingParams::top_p)
      .def_readwrite("top_k", &SamplingParams::top_k)
      .def_readwrite("min_p", &SamplingParams::min_p)
      .def_readwrite("seed", &SamplingParams::seed)
      .def_readwrite("stop", &SamplingParams::stop)
      .def_readwrite("stop_token_ids", &SamplingParams::stop_token_ids)
      .def_readwrite("ignore_eos", &SamplingParams::ignore_eos)
      .def_readwrite("max_tokens", &SamplingParams::max_tokens)
      .def_readwrite("min_tokens", &SamplingParams::min_tokens)
      .def_readwrite("logprobs", &SamplingParams::logprobs)
      .def_readwrite("prompt_logprobs", &SamplingParams::prompt_logprobs)
      .def_readwrite("skip_special_tokens", &SamplingParams::skip_special_tokens)
      .def_readwrite("spaces_between_special_tokens", &SamplingParams::spaces_between_special_tokens)
      .def_readwrite("include_stop_str_in_output", &SamplingParams::include_stop_str_in_output)
      .def_readwrite("logit_bias", &SamplingParams::logit_bias)
      .def_readwrite("structured_outputs", &SamplingParams::structured_outputs)
      .def("validate", &SamplingParams::validate);
}

}  // namespace

void bind_engine(py::module_& m) {
  bind_engine_args(m);
  bind_sampling_params(m);
  py::class_<PromptInput>(m, "PromptInput", "A prompt as text or as token ids")
      .def(py::init<>())
      .def_readwrite("text", &PromptInput::text)
      .def_readwrite("token_ids", &PromptInput::token_ids)
      .def_readwrite("add_special_tokens", &PromptInput::add_special_tokens);
  py::class_<Engine>(m, "Engine", "One model's engine (EngineCore) driven to completion per generate call")
      .def(py::init<const EngineArgs&>(), py::arg("args"), py::call_guard<py::gil_scoped_release>())
      .def("generate", &Engine::generate, py::arg("prompts"), py::arg("params"), py::arg("lora_names"),
           py::arg("on_progress") = py::none())
      .def("add_lora", &Engine::add_lora, py::arg("name"), py::arg("path"))
      .def("close", &Engine::close)
      .def("lora_names", [](Engine& e) { return e.locked([](EngineCore& c) { return c.lora_names(); }); })
      .def_property_readonly("max_model_len", [](Engine& e) { return e.locked([](EngineCore& c) { return c.max_model_len(); }); })
      .def_property_readonly("num_kv_blocks", [](Engine& e) { return e.locked([](EngineCore& c) { return c.num_kv_blocks(); }); })
      .def_property_readonly("num_free_kv_blocks",
                             [](Engine& e) { return e.locked([](EngineCore& c) { return c.num_free_kv_blocks(); }); })
      .def("reset_prefix_cache", [](Engine& e) { e.locked([](EngineCore& c) { c.reset_prefix_cache(); }); })
      .def("stats", [](Engine& e) {
        const EngineStats s = e.locked([](EngineCore& c) { return c.stats(); });
        py::dict d;
        d["num_requests_running"] = s.num_requests_running;
        d["num_requests_waiting"] = s.num_requests_waiting;
        d["prompt_tokens_total"] = s.prompt_tokens_total;
        d["generation_tokens_total"] = s.generation_tokens_total;
        d["num_preemptions_total"] = s.num_preemptions_total;
        return d;
      });
}

}  // namespace pagedllm::python
