#include "tokenizer/post_processor.h"

#include <nlohmann/json.hpp>

#include "tokenizer/json_fields.h"
#include "util/error.h"

namespace pagedllm {

namespace {

// The sequence is spliced in where a piece has no ids of its own.
struct TemplatePiece {
  bool is_sequence = false;
  std::vector<int32_t> ids;
  std::vector<std::string> tokens;
};

class TemplatePostProcessor : public PostProcessor {
 public:
  explicit TemplatePostProcessor(std::vector<TemplatePiece> pieces) : pieces_(std::move(pieces)) {}
  void process(std::vector<int32_t>& ids, std::vector<std::string>& tokens) const override {
    std::vector<int32_t> out_ids;
    std::vector<std::string> out_tokens;
    for (const auto& piece : pieces_) {
      if (piece.is_sequence) {
        out_ids.insert(out_ids.end(), ids.begin(), ids.end());
        out_tokens.insert(out_tokens.end(), tokens.begin(), tokens.end());
      } else {
        out_ids.insert(out_ids.end(), piece.ids.begin(), piece.ids.end());
        out_tokens.insert(out_tokens.end(), piece.tokens.begin(), piece.tokens.end());
      }
    }
    ids = std::move(out_ids);
    tokens = std::move(out_tokens);
  }

 private:
  std::vector<TemplatePiece> pieces_;
};

class SequencePostProcessor : public PostProcessor {
 public:
  explicit SequencePostProcessor(std::vector<std::unique_ptr<PostProcessor>> steps) : steps_(std::move(steps)) {}
  void process(std::vector<int32_t>& ids, std::vector<std::string>& tokens) const override {
    for (const auto& step : steps_) step->process(ids, tokens);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> steps_;
};

class IdentityPostProcessor : public PostProcessor {
 public:
  void process(std::vector<int32_t>&, std::vector<std::string>&) const override {}
};

TemplatePiece special_piece(const nlohmann::json& special_tokens, const std::string& name) {
  const auto& entry = required_field(special_tokens, name.c_str(), "TemplateProcessing special_tokens");
  TemplatePiece piece;
  const auto& ids = required_field(entry, "ids", "TemplateProcessing special token");
  const auto& tokens = required_field(entry, "tokens", "TemplateProcessing special token");
  if (!ids.is_array() || !tokens.is_array() || ids.size() != tokens.size()) {
    throw_error(ErrorKind::kCorrupt, "TemplateProcessing special token {:?} needs ids and tokens of equal length",
                name);
  }
  for (const auto& id : ids) {
    if (!id.is_number_integer()) {
      throw_error(ErrorKind::kCorrupt, "TemplateProcessing {:?}: ids must be integers", name);
    }
    piece.ids.push_back(id.get<int32_t>());
  }
  for (const auto& t : tokens) piece.tokens.push_back(t.is_string() ? t.get<std::string>() : "");
  return piece;
}

// A template piece in its string form: "$A", "$A:0", "$0", "[CLS]", "[CLS]:1".
std::string template_piece_name(const std::string& s, bool& is_sequence) {
  const std::string name = s.substr(0, s.find(':'));
  is_sequence = name.starts_with('$');
  return name;
}

std::unique_ptr<PostProcessor> parse_template(const nlohmann::json& config) {
  const auto& single = required_field(config, "single", "TemplateProcessing");
  const auto special_it = config.find("special_tokens");
  const nlohmann::json empty = nlohmann::json::object();
  const nlohmann::json& special_tokens = special_it == config.end() ? empty : *special_it;
  std::vector<TemplatePiece> pieces;
  nlohmann::json items = single;
  if (single.is_string()) {
    items = nlohmann::json::array();
    const std::string s = single.get<std::string>();
    size_t pos = 0;
    while (pos < s.size()) {
      const size_t end = std::min(s.find(' ', pos), s.size());
      if (end > pos) items.push_back(s.substr(pos, end - pos));
      pos = end + 1;
    }
  }
  if (!items.is_array()) throw_error(ErrorKind::kCorrupt, "TemplateProcessing \"single\" must be a list");
  for (const auto& item : items) {
    if (item.is_string()) {
      bool is_sequence = false;
      const std::string name = template_piece_name(item.get<std::string>(), is_sequence);
      pieces.push_back(is_sequence ? TemplatePiece{true, {}, {}} : special_piece(special_tokens, name));
    } else if (item.contains("Sequence")) {
      pieces.push_back({true, {}, {}});
    } else if (item.contains("SpecialToken")) {
      pieces.push_back(special_piece(special_tokens, string_field(item["SpecialToken"], "id", "SpecialToken")));
    } else {
      throw_error(ErrorKind::kCorrupt, "TemplateProcessing piece must be Sequence or SpecialToken");
    }
  }
  return std::make_unique<TemplatePostProcessor>(std::move(pieces));
}

// RobertaProcessing / BertProcessing: cls $A sep, with "cls"/"sep" given as [token, id].
std::unique_ptr<PostProcessor> parse_cls_sep(const nlohmann::json& config, std::string_view what) {
  auto piece = [&](const char* key) {
    const auto& pair = required_field(config, key, what);
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_number_integer()) {
      throw_error(ErrorKind::kCorrupt, "{}: \"{}\" must be [token, id]", what, key);
    }
    return TemplatePiece{false, {pair[1].get<int32_t>()}, {pair[0].get<std::string>()}};
  };
  std::vector<TemplatePiece> pieces;
  pieces.push_back(piece("cls"));
  pieces.push_back({true, {}, {}});
  pieces.push_back(piece("sep"));
  return std::make_unique<TemplatePostProcessor>(std::move(pieces));
}

}  // namespace

std::unique_ptr<PostProcessor> parse_post_processor(const nlohmann::json& config) {
  const std::string type = type_field(config, "post_processor");
  if (type == "TemplateProcessing") return parse_template(config);
  if (type == "ByteLevel") return std::make_unique<IdentityPostProcessor>();
  if (type == "RobertaProcessing") return parse_cls_sep(config, "RobertaProcessing");
  if (type == "BertProcessing") return parse_cls_sep(config, "BertProcessing");
  if (type == "Sequence") {
    const auto& list = required_field(config, "processors", "Sequence post_processor");
    if (!list.is_array()) throw_error(ErrorKind::kCorrupt, "Sequence post_processor: \"processors\" must be a list");
    std::vector<std::unique_ptr<PostProcessor>> steps;
    for (const auto& item : list) steps.push_back(parse_post_processor(item));
    return std::make_unique<SequencePostProcessor>(std::move(steps));
  }
  throw_error(ErrorKind::kUnsupported, "post_processor type {:?} is not supported", type);
}

}  // namespace pagedllm
