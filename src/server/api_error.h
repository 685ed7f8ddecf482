// HTTP error answers in OpenAI's shape, and the one place that maps pagedllm errors to HTTP status codes.
//
// Body: {"error": {"message": str, "type": str, "param": str|null, "code": int}}, with vLLM's type names
// ("BadRequestError", "NotFoundError", ...) and the status as `code`.
#pragma once

#include <exception>
#include <string>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace httplib {
struct Response;
}

namespace pagedllm {

// An Error about one request field; `param` becomes the error body's "param" (e.g. "max_tokens", "messages[2].role").
class FieldError : public Error {
 public:
  FieldError(ErrorKind kind, std::string param, const std::string& message)
      : Error(kind, message), param_(std::move(param)) {}
  const std::string& param() const { return param_; }

 private:
  std::string param_;
};

// throw_field_error("top_p", "top_p must be in (0, 1], got {}", v): a 400 naming the field.
template <typename... Args>
[[noreturn]] void throw_field_error(const std::string& param, fmt::format_string<Args...> format, Args&&... args) {
  throw FieldError(ErrorKind::kInvalidArgument, param, fmt::format(format, std::forward<Args>(args)...));
}

struct ApiError {
  int status = 500;
  std::string message;
  std::string param;  // empty: null in the body
};

// The mapping of error kinds to HTTP statuses (400, 404, 503, ...). Every handler goes through it.
int http_status_for(ErrorKind kind);

// An ApiError for the exception in flight: pagedllm::Error (and FieldError) by kind, malformed JSON as 400,
// anything else as 500.
ApiError api_error_from(std::exception_ptr exception);

// vLLM's error type name for a status: 400 "BadRequestError", 401 "AuthenticationError", 404 "NotFoundError", ...
const char* error_type_for_status(int status);

nlohmann::json error_json(const ApiError& error);
void set_error_response(httplib::Response& response, const ApiError& error);

}  // namespace pagedllm
