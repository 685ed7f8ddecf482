#include "server/access_log.h"

#include <gtest/gtest.h>
#include <httplib.h>

namespace pagedllm {
namespace {

httplib::Request request_from(const std::string& method, const std::string& target) {
  httplib::Request request;
  request.remote_addr = "127.0.0.1";
  request.remote_port = 52314;
  request.method = method;
  request.target = target;
  request.path = target.substr(0, target.find('?'));
  request.version = "HTTP/1.1";
  return request;
}

TEST(AccessLogTest, LineHasUvicornsShape) {
  httplib::Response response;
  response.status = 200;
  EXPECT_EQ(access_log_line(request_from("POST", "/v1/chat/completions"), response),
            "INFO:     127.0.0.1:52314 - \"POST /v1/chat/completions HTTP/1.1\" 200 OK");
}

TEST(AccessLogTest, QueryAndErrorStatusAreKept) {
  httplib::Response response;
  response.status = 401;
  EXPECT_EQ(access_log_line(request_from("GET", "/v1/models?x=1"), response),
            "INFO:     127.0.0.1:52314 - \"GET /v1/models?x=1 HTTP/1.1\" 401 Unauthorized");
  response.status = 418;
  EXPECT_EQ(access_log_line(request_from("GET", "/"), response), "INFO:     127.0.0.1:52314 - \"GET / HTTP/1.1\" 418");
}

TEST(AccessLogTest, PathStandsInForAMissingTarget) {
  httplib::Request request = request_from("GET", "/health");
  request.target.clear();
  httplib::Response response;
  response.status = 503;
  EXPECT_EQ(access_log_line(request, response),
            "INFO:     127.0.0.1:52314 - \"GET /health HTTP/1.1\" 503 Service Unavailable");
}

}  // namespace
}  // namespace pagedllm
