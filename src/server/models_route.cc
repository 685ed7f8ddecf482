// GET /v1/models: the served names of the base model, then the LoRA adapters (parent = the base model), as vLLM
// lists them.
#include <httplib.h>

#include "server/response_common.h"
#include "server/routes.h"
#include "server/server_context.h"

namespace pagedllm {
namespace {

nlohmann::json model_card(const std::string& id, const std::string& root, const nlohmann::json& parent,
                          int max_model_len, int64_t created) {
  return {{"id", id},           {"object", "model"},
          {"created", created}, {"owned_by", "pagedllm"},
          {"root", root},       {"parent", parent},
          {"max_model_len", max_model_len}};
}

}  // namespace

void register_models_route(httplib::Server& server, ServerContext& context) {
  server.Get("/v1/models", [&context](const httplib::Request&, httplib::Response& response) {
    int64_t created = unix_time_now();
    int max_model_len = context.engine.max_model_len();
    std::string root = context.config.model_path.empty() ? context.model_name : context.config.model_path;
    nlohmann::json data = nlohmann::json::array();
    data.push_back(model_card(context.model_name, root, nullptr, max_model_len, created));
    for (const std::string& name : context.config.served_model_names) {
      if (name != context.model_name) data.push_back(model_card(name, root, nullptr, max_model_len, created));
    }
    for (const std::string& lora : context.engine.lora_names()) {
      data.push_back(model_card(lora, lora, context.model_name, max_model_len, created));
    }
    set_json_response(response, {{"object", "list"}, {"data", std::move(data)}});
  });
}

}  // namespace pagedllm
