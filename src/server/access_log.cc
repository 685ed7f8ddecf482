#include "server/access_log.h"

#include <cstdio>

#include <fmt/format.h>
#include <httplib.h>

namespace pagedllm {
namespace {

// The reason phrases of the statuses this server answers with (Python's http.HTTPStatus, as uvicorn prints them).
const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Request Entity Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "";
  }
}

}  // namespace

std::string access_log_line(const httplib::Request& request, const httplib::Response& response) {
  // `target` is the request line's path with its query; older requests built by hand may lack it.
  const std::string& target = request.target.empty() ? request.path : request.target;
  std::string line = fmt::format("INFO:     {}:{} - \"{} {} {}\" {}", request.remote_addr, request.remote_port,
                                 request.method, target, request.version, response.status);
  const char* phrase = reason_phrase(response.status);
  if (*phrase != '\0') line += fmt::format(" {}", phrase);
  return line;
}

void log_access(const httplib::Request& request, const httplib::Response& response) {
  std::string line = access_log_line(request, response) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace pagedllm
