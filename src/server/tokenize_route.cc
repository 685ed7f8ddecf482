// POST /tokenize (vLLM): {"prompt", "add_special_tokens" = true, "return_token_strs"} or the chat form
// {"messages", "add_generation_prompt", ...} → {"count", "max_model_len", "tokens", "token_strs"}.
#include <httplib.h>

#include "server/api_error.h"
#include "server/chat_prompt.h"
#include "server/request_fields.h"
#include "server/response_common.h"
#include "server/routes.h"
#include "server/server_context.h"
#include "tokenizer/tokenizer.h"

namespace pagedllm {

void register_tokenize_route(httplib::Server& server, ServerContext& context) {
  server.Post("/tokenize", [&context](const httplib::Request& request, httplib::Response& response) {
    json body = parse_json_body(request.body);
    context.resolve_model(body);
    const Tokenizer& tokenizer = context.engine.tokenizer();
    std::vector<int32_t> tokens;
    if (find_field(body, "messages") != nullptr) {
      tokens = render_chat_prompt(body, parse_ordered_json_body(request.body), context).token_ids;
    } else {
      std::optional<std::string> prompt = get_string(body, "prompt");
      if (!prompt) throw_field_error("prompt", "prompt (a string) or messages is required");
      tokens = tokenizer.encode(*prompt, get_bool(body, "add_special_tokens").value_or(true));
    }
    json token_strs = nullptr;
    if (get_bool(body, "return_token_strs").value_or(false)) {
      token_strs = json::array();
      for (int32_t id : tokens) token_strs.push_back(tokenizer.id_to_token(id));
    }
    set_json_response(response, {{"count", tokens.size()},
                                 {"max_model_len", context.engine.max_model_len()},
                                 {"tokens", tokens},
                                 {"token_strs", token_strs}});
  });
}

}  // namespace pagedllm
