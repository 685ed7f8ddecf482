// tokenizer.json "post_processor", applied when add_special_tokens is set (Hugging Face
// tokenizers/src/processors): TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel (ids unchanged),
// Sequence. Only single sequences are encoded here, so only the "single" template is read.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pagedllm {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Adds the special tokens around one encoded sequence; `tokens` runs parallel to `ids`.
  virtual void process(std::vector<int32_t>& ids, std::vector<std::string>& tokens) const = 0;
};

// Throws Error(kCorrupt) for malformed fields, Error(kUnsupported) for other types.
std::unique_ptr<PostProcessor> parse_post_processor(const nlohmann::json& config);

}  // namespace pagedllm
