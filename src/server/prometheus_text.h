// EngineStats in the Prometheus text exposition format (version 0.0.4), under vLLM's metric names so that vLLM
// dashboards work unchanged: gauges vllm:num_requests_running / num_requests_waiting / kv_cache_usage_perc
// (a fraction 0..1, as vLLM), counters vllm:prompt_tokens_total, generation_tokens_total, num_preemptions_total,
// request_success_total{finished_reason}, prefix_cache_queries_total / hits_total, and histograms
// vllm:time_to_first_token_seconds, inter_token_latency_seconds, e2e_request_latency_seconds.
// Every sample carries the label model_name="<served name>".
#pragma once

#include <string>

#include "engine/engine_client.h"

namespace pagedllm {

std::string prometheus_text(const EngineStats& stats, const std::string& model_name);

}  // namespace pagedllm
