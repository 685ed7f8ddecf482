// One line per answered request on stderr, in uvicorn's access-log shape (what vLLM prints):
//   INFO:     127.0.0.1:52314 - "POST /v1/chat/completions HTTP/1.1" 200 OK
// A streamed response is logged when its stream ends.
#pragma once

#include <string>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace pagedllm {

// The line for one request, without the newline.
std::string access_log_line(const httplib::Request& request, const httplib::Response& response);

// Writes access_log_line to stderr (one write, so lines of concurrent requests do not interleave). Thread-safe.
void log_access(const httplib::Request& request, const httplib::Response& response);

}  // namespace pagedllm
