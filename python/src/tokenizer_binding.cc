// The model's tokenizer and chat-template renderer for Python (pagedllm.tokenizer wraps them in Hugging Face's
// method names). Conversations and tools cross as JSON text so that dict key order survives, as the templates
// print dicts in insertion order.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "bindings.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace py = pybind11;

namespace pagedllm::python {
namespace {

nlohmann::ordered_json parse_json_arg(const std::string& text, const char* name) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(text, nullptr, false);
  if (j.is_discarded()) throw_error(ErrorKind::kInvalidArgument, "{} is not valid JSON", name);
  return j;
}

// Renders as `pagedllm chat-template` does: messages, tools (when given), add_generation_prompt, the tokenizer's
// BOS/EOS strings, and every extra variable.
std::string render(const std::string& template_source, const std::string& messages_json, const std::string& tools_json,
                   bool add_generation_prompt, const std::string& bos, const std::string& eos,
                   const std::string& extra_json) {
  ChatTemplateInputs inputs;
  inputs.messages = parse_json_arg(messages_json, "messages");
  if (!tools_json.empty()) inputs.tools = parse_json_arg(tools_json, "tools");
  inputs.add_generation_prompt = add_generation_prompt;
  inputs.bos_token = bos;
  inputs.eos_token = eos;
  if (!extra_json.empty()) inputs.extra = parse_json_arg(extra_json, "chat template variables");
  return ChatTemplate(template_source).render(inputs);
}

py::object optional_id(std::optional<int32_t> id) { return id ? py::object(py::int_(*id)) : py::none(); }

}  // namespace

void bind_tokenizer(py::module_& m) {
  py::class_<Tokenizer>(m, "Tokenizer", "A model folder's tokenizer (tokenizer.json or tokenizer.model)")
      .def_static("from_path", &Tokenizer::from_path, py::arg("path"))
      .def("encode", [](const Tokenizer& t, const std::string& text, bool add_special) { return t.encode(text, add_special); },
           py::arg("text"), py::arg("add_special_tokens") = true)
      .def("decode",
           [](const Tokenizer& t, const std::vector<int32_t>& ids, bool skip_special) {
             return to_str(t.decode(ids, skip_special));
           },
           py::arg("ids"), py::arg("skip_special_tokens") = false)
      .def("id_to_token", [](const Tokenizer& t, int32_t id) { return to_str(t.id_to_token(id)); })
      .def("token_to_id", [](const Tokenizer& t, const std::string& token) { return optional_id(t.token_to_id(token)); })
      .def("is_special", &Tokenizer::is_special)
      .def_property_readonly("vocab_size", &Tokenizer::vocab_size)
      .def_property_readonly("bos_token_id", [](const Tokenizer& t) { return optional_id(t.bos_token_id()); })
      .def_property_readonly("eos_token_id", [](const Tokenizer& t) { return optional_id(t.eos_token_id()); })
      .def_property_readonly("bos_token", &Tokenizer::bos_token)
      .def_property_readonly("eos_token", &Tokenizer::eos_token)
      .def_property_readonly("chat_template", &Tokenizer::chat_template);
  m.def("render_chat_template", &render, py::arg("template_source"), py::arg("messages_json"), py::arg("tools_json"),
        py::arg("add_generation_prompt"), py::arg("bos_token"), py::arg("eos_token"), py::arg("extra_json"));
}

}  // namespace pagedllm::python
