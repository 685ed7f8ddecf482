#include "bench/bench_serve.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "server/sse.h"
#include "util/error.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct RequestTiming {
  bool is_ok = false;
  double ttft_s = 0.0;
  double latency_s = 0.0;
  std::vector<double> itl_s;
  int64_t num_output_tokens = 0;
};

httplib::Headers auth_headers(const BenchServeConfig& config) {
  if (config.api_key.empty()) return {};
  return {{"Authorization", "Bearer " + config.api_key}};
}

std::string discover_model(const BenchServeConfig& config) {
  httplib::Client client(config.base_url);
  auto response = client.Get("/v1/models", auth_headers(config));
  if (!response || response->status != 200) {
    throw_error(ErrorKind::kIo, "bench serve: GET {}/v1/models failed", config.base_url);
  }
  return json::parse(response->body).at("data").at(0).at("id").get<std::string>();
}

// One streaming completion; a chunk with text marks a token arrival (the first one is the TTFT).
RequestTiming run_request(const BenchServeConfig& config, const std::string& model, const std::vector<int>& prompt) {
  json body = {{"model", model},        {"prompt", prompt},       {"max_tokens", config.output_len},
               {"ignore_eos", true},    {"temperature", 0.0},     {"stream", true},
               {"stream_options", {{"include_usage", true}}}};
  RequestTiming timing;
  SseParser parser;
  Clock::time_point start = Clock::now(), last = start;
  bool has_first = false, is_done = false;
  httplib::Client client(config.base_url);
  client.set_read_timeout(600, 0);
  httplib::Request request;
  request.method = "POST";
  request.path = "/v1/completions";
  request.headers = auth_headers(config);
  request.set_header("Content-Type", "application/json");
  request.body = body.dump();
  request.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    for (const std::string& payload : parser.feed(std::string_view(data, size))) {
      if (payload == "[DONE]") {
        is_done = true;
        continue;
      }
      json chunk = json::parse(payload, nullptr, false);
      if (chunk.is_discarded()) return false;
      if (chunk.contains("usage") && chunk["usage"].is_object()) {
        timing.num_output_tokens = chunk["usage"].value("completion_tokens", int64_t{0});
      }
      if (!chunk.contains("choices") || chunk["choices"].empty()) continue;
      Clock::time_point now = Clock::now();
      if (!has_first) {
        timing.ttft_s = std::chrono::duration<double>(now - start).count();
        has_first = true;
      } else {
        timing.itl_s.push_back(std::chrono::duration<double>(now - last).count());
      }
      last = now;
    }
    return true;
  };
  httplib::Response response;
  httplib::Error error = httplib::Error::Success;
  bool is_sent = client.send(request, response, error);
  timing.latency_s = std::chrono::duration<double>(Clock::now() - start).count();
  timing.is_ok = is_sent && response.status == 200 && is_done && has_first;
  return timing;
}

void print_progress(int done, int total) {
  constexpr int kWidth = 40;
  int filled = total > 0 ? done * kWidth / total : kWidth;
  std::fprintf(stderr, "\r[%s%s] %d/%d", std::string(filled, '=').c_str(), std::string(kWidth - filled, ' ').c_str(),
               done, total);
  if (done == total) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

std::vector<std::vector<int>> random_prompts(const BenchServeConfig& config) {
  Rng rng(config.seed);
  std::vector<std::vector<int>> prompts(config.num_prompts);
  for (auto& prompt : prompts) {
    for (int i = 0; i < config.input_len; ++i) {
      prompt.push_back(10 + static_cast<int>(rng.next_u64() % static_cast<uint64_t>(config.max_token_id - 10)));
    }
  }
  return prompts;
}

BenchServeResult summarize(const BenchServeConfig& config, const std::vector<RequestTiming>& timings,
                           double duration_s) {
  BenchServeResult result;
  result.duration_s = duration_s;
  std::vector<double> ttft, tpot, itl, e2el;
  for (const RequestTiming& t : timings) {
    if (!t.is_ok) {
      ++result.num_failed;
      continue;
    }
    ++result.num_completed;
    result.total_input_tokens += config.input_len;
    result.total_output_tokens += t.num_output_tokens;
    ttft.push_back(t.ttft_s);
    e2el.push_back(t.latency_s);
    itl.insert(itl.end(), t.itl_s.begin(), t.itl_s.end());
    if (t.num_output_tokens > 1) tpot.push_back((t.latency_s - t.ttft_s) / static_cast<double>(t.num_output_tokens - 1));
  }
  result.request_throughput = result.num_completed / duration_s;
  result.output_throughput = static_cast<double>(result.total_output_tokens) / duration_s;
  result.total_token_throughput =
      static_cast<double>(result.total_input_tokens + result.total_output_tokens) / duration_s;
  result.ttft = summarize_seconds(ttft);
  result.tpot = summarize_seconds(tpot);
  result.itl = summarize_seconds(itl);
  result.e2el = summarize_seconds(e2el);
  return result;
}

}  // namespace

BenchServeResult bench_serve(const BenchServeConfig& config) {
  if (config.num_prompts < 1 || config.input_len < 1 || config.output_len < 1 || config.max_token_id <= 10 ||
      !(config.request_rate > 0.0)) {
    throw Error(ErrorKind::kInvalidArgument,
                "bench serve: --num-prompts, --input-len, --output-len and --request-rate must be positive");
  }
  std::string model = config.model.empty() ? discover_model(config) : config.model;
  std::vector<std::vector<int>> prompts = random_prompts(config);
  std::vector<RequestTiming> timings(prompts.size());
  std::atomic<int> num_done{0};
  std::mutex progress_mutex;
  Rng arrivals(config.seed + 1);
  std::vector<std::thread> clients;
  Clock::time_point start = Clock::now();
  for (size_t i = 0; i < prompts.size(); ++i) {
    clients.emplace_back([&, i] {
      timings[i] = run_request(config, model, prompts[i]);
      int done = ++num_done;
      if (config.show_progress) {
        std::lock_guard<std::mutex> lock(progress_mutex);
        print_progress(done, static_cast<int>(prompts.size()));
      }
    });
    if (std::isfinite(config.request_rate) && i + 1 < prompts.size()) {
      double uniform = (static_cast<double>(arrivals.next_u64() >> 11) + 0.5) / 9007199254740992.0;  // (0, 1)
      std::this_thread::sleep_for(std::chrono::duration<double>(-std::log(uniform) / config.request_rate));
    }
  }
  for (std::thread& client : clients) client.join();
  return summarize(config, timings, std::chrono::duration<double>(Clock::now() - start).count());
}

std::string format_bench_report(const BenchServeResult& r) {
  auto line = [](const std::string& name, const std::string& value) { return fmt::format("{:<40}{:<10}\n", name, value); };
  auto num = [](double v) { return fmt::format("{:.2f}", v); };
  auto section = [](const std::string& title) { return fmt::format("{:-^50}\n", title); };
  std::string text = fmt::format("{:=^50}\n", " Serving Benchmark Result ");
  text += line("Successful requests:", std::to_string(r.num_completed));
  text += line("Failed requests:", std::to_string(r.num_failed));
  text += line("Benchmark duration (s):", num(r.duration_s));
  text += line("Total input tokens:", std::to_string(r.total_input_tokens));
  text += line("Total generated tokens:", std::to_string(r.total_output_tokens));
  text += line("Request throughput (req/s):", num(r.request_throughput));
  text += line("Output token throughput (tok/s):", num(r.output_throughput));
  text += line("Total token throughput (tok/s):", num(r.total_token_throughput));
  const std::pair<const char*, const LatencySummary*> metrics[] = {
      {"TTFT", &r.ttft}, {"TPOT", &r.tpot}, {"ITL", &r.itl}, {"E2EL", &r.e2el}};
  const char* titles[] = {"Time to First Token", "Time per Output Token (excl. 1st token)", "Inter-token Latency",
                          "End-to-end Latency"};
  for (size_t i = 0; i < 4; ++i) {
    text += section(titles[i]);
    text += line(fmt::format("Mean {} (ms):", metrics[i].first), num(metrics[i].second->mean_ms));
    text += line(fmt::format("Median {} (ms):", metrics[i].first), num(metrics[i].second->median_ms));
    text += line(fmt::format("P99 {} (ms):", metrics[i].first), num(metrics[i].second->p99_ms));
  }
  text += std::string(50, '=') + "\n";
  return text;
}

int run_bench_serve(const BenchServeConfig& config) {
  BenchServeResult result = bench_serve(config);
  std::fputs(format_bench_report(result).c_str(), stdout);
  return result.num_failed == 0 ? 0 : 1;
}

}  // namespace pagedllm
