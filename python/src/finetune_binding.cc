// QLoRA fine-tuning from Python (pagedllm.finetune): the trainer of `pagedllm finetune`, run with the GIL released;
// after every optimizer step Python's signal handlers run (Ctrl-C stops the run as a killed run would stop, so
// --resume continues it) and the optional callback sees the step's log.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>

#include "bindings.h"
#include "cli/training_tokenizer.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "train/trainer.h"
#include "util/thread_pool.h"

namespace py = pybind11;

namespace pagedllm::python {
namespace {

py::dict step_dict(const StepLog& s) {
  py::dict d;
  d["step"] = s.step;
  d["num_steps"] = s.num_steps;
  d["loss"] = s.loss;
  d["eval_loss"] = s.eval_loss ? py::object(py::float_(*s.eval_loss)) : py::none();
  d["lr"] = s.lr;
  d["grad_norm"] = s.grad_norm;
  d["num_tokens"] = s.num_tokens;
  return d;
}

py::dict finetune(TrainerConfig config, const std::string& tokenizer_path, int num_threads, const py::object& on_step) {
  if (num_threads > 0) set_num_threads(num_threads);
  if (!on_step.is_none()) {
    config.on_step = [&on_step](const StepLog& s) {
      py::gil_scoped_acquire acquire;
      check_signals();
      on_step(step_dict(s));
    };
  } else {
    config.on_step = [](const StepLog&) {
      py::gil_scoped_acquire acquire;
      check_signals();
    };
  }
  FinetuneResult r;
  {
    py::gil_scoped_release release;
    std::shared_ptr<const Tokenizer> tokenizer = Tokenizer::from_path(tokenizer_path.empty() ? config.model_dir : tokenizer_path);
    r = run_finetune(config, bind_tokenizer(tokenizer, ""));
  }
  py::list steps;
  for (const auto& s : r.steps) steps.append(step_dict(s));
  py::dict out;
  out["steps"] = steps;
  out["final_eval_loss"] = r.final_eval_loss ? py::object(py::float_(*r.final_eval_loss)) : py::none();
  out["tokens_per_second"] = r.tokens_per_second;
  out["peak_resident_bytes"] = r.peak_resident_bytes;
  out["optimizer_state_bytes"] = r.optimizer_state_bytes;
  out["num_evictions"] = r.num_evictions;
  out["num_page_ins"] = r.num_page_ins;
  return out;
}

}  // namespace

void bind_finetune(py::module_& m) {
  py::class_<TrainerConfig>(m, "TrainerConfig", "Every setting of `pagedllm finetune`")
      .def(py::init<>())
      .def_readwrite("model_dir", &TrainerConfig::model_dir)
      .def_readwrite("data_path", &TrainerConfig::data_path)
      .def_readwrite("output_dir", &TrainerConfig::output_dir)
      .def_readwrite("eval_data_path", &TrainerConfig::eval_data_path)
      .def_readwrite("is_dummy_weights", &TrainerConfig::is_dummy_weights)
      .def_readwrite("quantization", &TrainerConfig::quantization)
      .def_readwrite("double_quant", &TrainerConfig::double_quant)
      .def_readwrite("lora_r", &TrainerConfig::lora_r)
      .def_readwrite("lora_alpha", &TrainerConfig::lora_alpha)
      .def_readwrite("lora_dropout", &TrainerConfig::lora_dropout)
      .def_readwrite("target_modules", &TrainerConfig::target_modules)
      .def_readwrite("learning_rate", &TrainerConfig::learning_rate)
      .def_readwrite("lr_scheduler", &TrainerConfig::lr_scheduler)
      .def_readwrite("warmup_ratio", &TrainerConfig::warmup_ratio)
      .def_readwrite("max_grad_norm", &TrainerConfig::max_grad_norm)
      .def_readwrite("weight_decay", &TrainerConfig::weight_decay)
      .def_readwrite("batch_size", &TrainerConfig::batch_size)
      .def_readwrite("gradient_accumulation_steps", &TrainerConfig::gradient_accumulation_steps)
      .def_readwrite("max_steps", &TrainerConfig::max_steps)
      .def_readwrite("epochs", &TrainerConfig::epochs)
      .def_readwrite("max_seq_len", &TrainerConfig::max_seq_len)
      .def_readwrite("train_on_source", &TrainerConfig::train_on_source)
      .def_readwrite("group_by_length", &TrainerConfig::group_by_length)
      .def_readwrite("gradient_checkpointing", &TrainerConfig::gradient_checkpointing)
      .def_readwrite("optim", &TrainerConfig::optim)
      .def_readwrite("optimizer_memory", &TrainerConfig::optimizer_memory)
      .def_readwrite("save_steps", &TrainerConfig::save_steps)
      .def_readwrite("eval_steps", &TrainerConfig::eval_steps)
      .def_readwrite("seed", &TrainerConfig::seed)
      .def_readwrite("resume", &TrainerConfig::resume)
      .def_readwrite("show_progress", &TrainerConfig::show_progress);
  m.def("run_finetune", &finetune, py::arg("config"), py::arg("tokenizer_path"), py::arg("num_threads"),
        py::arg("on_step") = py::none());
}

}  // namespace pagedllm::python
