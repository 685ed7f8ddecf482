// POST /detokenize (vLLM): {"tokens": [ids]} → {"prompt": text}. Special tokens are kept in the text.
#include <httplib.h>

#include "server/api_error.h"
#include "server/request_fields.h"
#include "server/response_common.h"
#include "server/routes.h"
#include "server/server_context.h"
#include "tokenizer/tokenizer.h"

namespace pagedllm {

void register_detokenize_route(httplib::Server& server, ServerContext& context) {
  server.Post("/detokenize", [&context](const httplib::Request& request, httplib::Response& response) {
    json body = parse_json_body(request.body);
    context.resolve_model(body);
    const Tokenizer& tokenizer = context.engine.tokenizer();
    const json* tokens = find_field(body, "tokens");
    if (tokens == nullptr || !tokens->is_array()) throw_field_error("tokens", "tokens must be a list of token ids");
    std::vector<int32_t> ids;
    for (size_t i = 0; i < tokens->size(); ++i) {
      ids.push_back(static_cast<int32_t>(
          as_int((*tokens)[i], fmt::format("tokens[{}]", i), 0, tokenizer.vocab_size() - 1)));
    }
    set_json_response(response, {{"prompt", tokenizer.decode(ids, /*skip_special_tokens=*/false)}});
  });
}

}  // namespace pagedllm
