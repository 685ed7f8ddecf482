// pagedllm::Error → the Python exception a vLLM user expects for each kind: bad arguments are ValueError, missing
// files FileNotFoundError, unreadable ones OSError, exhausted memory or queues MemoryError/RuntimeError. The
// message is the engine's, which names the file, field or flag.
#include <pybind11/pybind11.h>

#include "bindings.h"
#include "util/error.h"

namespace pagedllm::python {

void bind_errors(pybind11::module_& m) {
  pybind11::register_exception_translator([](std::exception_ptr p) {
    if (!p) return;
    try {
      std::rethrow_exception(p);
    } catch (const Error& e) {
      PyObject* type = PyExc_RuntimeError;
      switch (e.kind()) {
        case ErrorKind::kInvalidArgument: type = PyExc_ValueError; break;
        case ErrorKind::kNotFound: type = PyExc_FileNotFoundError; break;
        case ErrorKind::kCorrupt: type = PyExc_ValueError; break;
        case ErrorKind::kUnsupported: type = PyExc_NotImplementedError; break;
        case ErrorKind::kResourceExhausted: type = PyExc_MemoryError; break;
        case ErrorKind::kIo: type = PyExc_OSError; break;
      }
      PyErr_SetString(type, e.what());
    }
  });
}

}  // namespace pagedllm::python
