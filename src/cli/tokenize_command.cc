#include "cli/tokenize_command.h"

#include <nlohmann/json.hpp>

#include <istream>
#include <ostream>

#include "tokenizer/tokenizer.h"

namespace pagedllm {

namespace {

// Runs `handle` on every non-empty line; a line it rejects gets an {"error"} line and makes the result 1.
template <typename Handler>
int for_each_json_line(std::istream& in, std::ostream& out, Handler handle) {
  int status = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    nlohmann::json result;
    try {
      result = handle(nlohmann::json::parse(line));
    } catch (const std::exception& e) {
      result = {{"error", e.what()}};
      status = 1;
    }
    // Invalid UTF-8 cannot reach the output: encode repairs input, decode produces valid UTF-8.
    out << result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
  out.flush();
  return status;
}

}  // namespace

int run_tokenize_command(const std::string& tokenizer_path, bool add_special_tokens, std::istream& in,
                         std::ostream& out) {
  const auto tokenizer = Tokenizer::from_path(tokenizer_path);
  return for_each_json_line(in, out, [&](const nlohmann::json& request) {
    if (!request.is_object() || !request.contains("text") || !request["text"].is_string()) {
      throw std::invalid_argument("expected {\"text\": string}");
    }
    const Encoding e = tokenizer->encode_with_tokens(request["text"].get<std::string>(), add_special_tokens);
    return nlohmann::json{{"ids", e.ids}, {"tokens", e.tokens}};
  });
}

int run_detokenize_command(const std::string& tokenizer_path, bool skip_special_tokens, std::istream& in,
                           std::ostream& out) {
  const auto tokenizer = Tokenizer::from_path(tokenizer_path);
  return for_each_json_line(in, out, [&](const nlohmann::json& request) {
    if (!request.is_object() || !request.contains("ids") || !request["ids"].is_array()) {
      throw std::invalid_argument("expected {\"ids\": [int, ...]}");
    }
    std::vector<int32_t> ids;
    for (const auto& id : request["ids"]) {
      if (!id.is_number_integer()) throw std::invalid_argument("ids must be integers");
      ids.push_back(id.get<int32_t>());
    }
    return nlohmann::json{{"text", tokenizer->decode(ids, skip_special_tokens)}};
  });
}

}  // namespace pagedllm
