#include "server/prometheus_text.h"

#include <fmt/format.h>

namespace pagedllm {
namespace {

std::string escape_label(const std::string& value) {
  std::string escaped;
  for (char c : value) {
    if (c == '\\' || c == '"') escaped += '\\';
    escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return escaped;
}

class Writer {
 public:
  explicit Writer(const std::string& model_name) : label_(fmt::format("model_name=\"{}\"", escape_label(model_name))) {}

  void header(const std::string& name, const char* type, const char* help) {
    text_ += fmt::format("# HELP vllm:{} {}\n# TYPE vllm:{} {}\n", name, help, name, type);
  }
  template <typename T>
  void sample(const std::string& name, T value, const std::string& extra_labels = "") {
    text_ += fmt::format("vllm:{}{{{}{}}} {}\n", name, extra_labels, label_, value);
  }
  void gauge(const std::string& name, double value, const char* help) {
    header(name, "gauge", help);
    sample(name, value);
  }
  void counter(const std::string& name, uint64_t value, const char* help) {
    header(name, "counter", help);
    sample(name + "_total", value);
  }
  void histogram(const std::string& name, const Histogram& histogram, const char* help) {
    header(name, "histogram", help);
    for (size_t i = 0; i < histogram.bounds.size(); ++i) {
      sample(name + "_bucket", i < histogram.counts.size() ? histogram.counts[i] : 0, fmt::format("le=\"{}\",", histogram.bounds[i]));
    }
    sample(name + "_bucket", histogram.count, "le=\"+Inf\",");
    sample(name + "_count", histogram.count);
    sample(name + "_sum", histogram.sum);
  }
  std::string& text() { return text_; }

 private:
  std::string label_;
  std::string text_;
};

}  // namespace

std::string prometheus_text(const EngineStats& stats, const std::string& model_name) {
  Writer w(model_name);
  w.gauge("num_requests_running", stats.num_requests_running, "Number of requests in model execution batches.");
  w.gauge("num_requests_waiting", stats.num_requests_waiting, "Number of requests waiting to be processed.");
  w.gauge("kv_cache_usage_perc", stats.kv_cache_usage, "KV-cache usage. 1 means 100 percent usage.");
  w.counter("prompt_tokens", stats.prompt_tokens_total, "Number of prefill tokens processed.");
  w.counter("generation_tokens", stats.generation_tokens_total, "Number of generation tokens processed.");
  w.counter("num_preemptions", stats.num_preemptions_total, "Cumulative number of preemptions from the engine.");
  w.counter("prefix_cache_queries", stats.prefix_cache_queries_total,
            "Prefix cache queries, in terms of number of queried tokens.");
  w.counter("prefix_cache_hits", stats.prefix_cache_hits_total,
            "Prefix cache hits, in terms of number of cached tokens.");
  w.header("request_success", "counter", "Count of successfully processed requests.");
  std::map<std::string, uint64_t> by_reason = {{"stop", 0}, {"length", 0}, {"abort", 0}};
  for (const auto& [reason, count] : stats.request_success_total) by_reason[reason] = count;
  for (const auto& [reason, count] : by_reason) {
    w.sample("request_success_total", count, fmt::format("finished_reason=\"{}\",", escape_label(reason)));
  }
  w.histogram("time_to_first_token_seconds", stats.time_to_first_token_seconds,
              "Histogram of time to first token in seconds.");
  w.histogram("inter_token_latency_seconds", stats.inter_token_latency_seconds,
              "Histogram of inter-token latency in seconds.");
  w.histogram("e2e_request_latency_seconds", stats.e2e_request_latency_seconds,
              "Histogram of e2e request latency in seconds.");
  return std::move(w.text());
}

}  // namespace pagedllm
