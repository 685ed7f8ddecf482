#include "server/api_error.h"

#include <httplib.h>

namespace pagedllm {

int http_status_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument:
    case ErrorKind::kCorrupt:
    case ErrorKind::kUnsupported:  // features not built yet answer 400 "not supported yet", as the API promises
      return 400;
    case ErrorKind::kNotFound:
      return 404;
    case ErrorKind::kResourceExhausted:
      return 503;
    case ErrorKind::kIo:
      return 500;
  }
  return 500;
}

ApiError api_error_from(std::exception_ptr exception) {
  try {
    std::rethrow_exception(exception);
  } catch (const FieldError& e) {
    return {http_status_for(e.kind()), e.what(), e.param()};
  } catch (const Error& e) {
    return {http_status_for(e.kind()), e.what(), ""};
  } catch (const nlohmann::json::parse_error& e) {
    return {400, fmt::format("Invalid JSON in the request body: {}", e.what()), ""};
  } catch (const std::exception& e) {
    return {500, fmt::format("Internal server error: {}", e.what()), ""};
  } catch (...) {
    return {500, "Internal server error", ""};
  }
}

const char* error_type_for_status(int status) {
  switch (status) {
    case 400: return "BadRequestError";
    case 401: return "AuthenticationError";
    case 404: return "NotFoundError";
    case 413: return "RequestEntityTooLargeError";
    case 501: return "NotImplementedError";
    case 503: return "ServiceUnavailableError";
    default: return status >= 500 ? "InternalServerError" : "BadRequestError";
  }
}

nlohmann::json error_json(const ApiError& error) {
  nlohmann::json param = error.param.empty() ? nlohmann::json(nullptr) : nlohmann::json(error.param);
  return {{"error",
           {{"message", error.message}, {"type", error_type_for_status(error.status)}, {"param", param},
            {"code", error.status}}}};
}

void set_error_response(httplib::Response& response, const ApiError& error) {
  response.status = error.status;
  response.set_content(error_json(error).dump(), "application/json");
}

}  // namespace pagedllm
