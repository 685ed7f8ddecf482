// One exception family for bad input and I/O failures, and CHECK for invariants.
//
// Bad input (a corrupt file, an unknown dtype, an out-of-range parameter) throws pagedllm::Error with a kind and a
// message that names the file, field or tensor. Boundaries (CLI, HTTP) catch it and map the kind to an exit code or
// status. Expected outcomes such as "no free KV blocks" are return values, never errors.
// CHECK guards invariants of our own code; it stays on in release builds and aborts with file:line.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace pagedllm {

enum class ErrorKind {
  kInvalidArgument,    // a parameter or request field out of range or of the wrong type
  kNotFound,           // a file, tensor, model or route that does not exist
  kCorrupt,            // a file or message whose bytes do not follow its format
  kUnsupported,        // valid input we do not handle (an architecture, a dtype, a feature)
  kResourceExhausted,  // memory, KV blocks or queue slots cannot satisfy the request
  kIo,                 // the operating system refused a read or write
};

const char* error_kind_name(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// throw_error(ErrorKind::kCorrupt, "{}: tensor {} ends past the file", path, name);
template <typename... Args>
[[noreturn]] void throw_error(ErrorKind kind, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(kind, fmt::format(format, std::forward<Args>(args)...));
}

[[noreturn]] void check_failed(const char* file, int line, const char* condition, const std::string& message);

}  // namespace pagedllm

#define PAGEDLLM_CHECK(condition)                                                     \
  do {                                                                                \
    if (!(condition)) ::pagedllm::check_failed(__FILE__, __LINE__, #condition, "");   \
  } while (0)

#define PAGEDLLM_CHECK_MSG(condition, ...)                                                                 \
  do {                                                                                                     \
    if (!(condition)) ::pagedllm::check_failed(__FILE__, __LINE__, #condition, fmt::format(__VA_ARGS__)); \
  } while (0)
