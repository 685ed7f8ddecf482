// _pagedllm: the native half of the `pagedllm` Python package. The pure-Python half (python/pagedllm/) gives it
// vLLM's names and shapes; nothing here is meant to be called by users directly.
#include <Python.h>

#include "bindings.h"

namespace pagedllm::python {

pybind11::str to_str(std::string_view text) {
  PyObject* s = PyUnicode_DecodeUTF8(text.data(), Py_ssize_t(text.size()), "replace");
  if (s == nullptr) throw pybind11::error_already_set();
  return pybind11::reinterpret_steal<pybind11::str>(s);
}

void check_signals() {
  if (PyErr_CheckSignals() != 0) throw pybind11::error_already_set();
}

}  // namespace pagedllm::python

PYBIND11_MODULE(_pagedllm, m) {
  m.doc() = "Native bindings of pagedllm (use the pagedllm package, not this module)";
  pagedllm::python::bind_errors(m);
  pagedllm::python::bind_engine(m);
  pagedllm::python::bind_tokenizer(m);
  pagedllm::python::bind_finetune(m);
  pagedllm::python::bind_cli(m);
}
