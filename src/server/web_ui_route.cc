// GET / and GET /web/<file>: the chat page (web/index.html and the scripts and styles it loads), served from the
// copies compiled into the binary. Registered unless --no-web-ui. The page talks to /v1/* like any client; it
// loads nothing from elsewhere, which the Content-Security-Policy header also enforces in the browser.
#include <fmt/format.h>
#include <httplib.h>

#include "server/api_error.h"
#include "server/routes.h"
#include "server/server_context.h"
#include "server/web_ui_assets.h"

namespace pagedllm {
namespace {

const WebAsset* find_asset(std::string_view name) {
  for (const WebAsset& asset : web_ui_assets()) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

const char* content_type_of(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".mjs")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

void send_asset(const WebAsset& asset, httplib::Response& response) {
  // no-cache: a browser revalidates, so a new binary's page replaces the old one without a hard reload.
  response.set_header("Cache-Control", "no-cache");
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("Content-Security-Policy",
                      "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                      "form-action 'none'; frame-ancestors 'none'");
  response.set_content(asset.body.data(), asset.body.size(), content_type_of(asset.name));
}

}  // namespace

void register_web_ui_route(httplib::Server& server, ServerContext& context) {
  if (!context.config.enable_web_ui) return;
  auto serve = [](std::string_view name, const httplib::Request& request, httplib::Response& response) {
    const WebAsset* asset = find_asset(name);
    if (asset == nullptr) {
      set_error_response(response, {404, fmt::format("Not Found: {} {}", request.method, request.path), ""});
      return;
    }
    send_asset(*asset, response);
  };
  server.Get("/", [serve](const httplib::Request& request, httplib::Response& response) {
    serve("index.html", request, response);
  });
  server.Get(R"(/web/([A-Za-z0-9_-]+\.[a-z]+))", [serve](const httplib::Request& request, httplib::Response& response) {
    serve(request.matches[1].str(), request, response);
  });
}

}  // namespace pagedllm
