#include "server/run_server.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "server/openai_server.h"
#include "util/error.h"

namespace pagedllm {
namespace {

std::atomic<int> g_num_signals{0};

void on_signal(int) { g_num_signals.fetch_add(1); }

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// Waits until the in-flight requests finish, the deadline passes or a second signal arrives.
void drain(OpenAIServer& server, double timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (server.num_requests_in_flight() > 0 && std::chrono::steady_clock::now() < deadline &&
         g_num_signals.load() < 2) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  size_t num_left = server.num_requests_in_flight();
  if (num_left > 0) {
    std::fprintf(stderr, "pagedllm serve: aborting %zu request(s) still running\n", num_left);
    server.abort_all();
  }
}

}  // namespace

int run_server(EngineClient& engine, const ServerConfig& config) {
  std::unique_ptr<OpenAIServer> server;
  try {
    server = std::make_unique<OpenAIServer>(engine, config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pagedllm serve: %s\n", e.what());
    return 1;
  }
  g_num_signals = 0;
  install_signal_handlers();
  // The socket is bound already; printed before serving starts, so no access line splits the start-up block.
  std::string url = fmt::format("http://{}:{}", config.host, server->bound_port());
  std::string lines = fmt::format("INFO:     listening on {} (press CTRL+C to quit)\n", url);
  lines += config.enable_web_ui ? fmt::format("INFO:     web UI: {}/\n", url) : "INFO:     web UI: off (--no-web-ui)\n";
  std::fputs(lines.c_str(), stderr);
  std::atomic<bool> has_listen_ended{false};
  std::thread listener([&] {
    server->listen();
    has_listen_ended = true;
  });
  while (g_num_signals.load() == 0 && !has_listen_ended) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (!has_listen_ended) {
    std::fprintf(stderr, "pagedllm serve: shutting down\n");
    server->stop_accepting();
    drain(*server, config.shutdown_timeout_s);
  }
  listener.join();
  return 0;
}

}  // namespace pagedllm
