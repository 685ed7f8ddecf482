// Streaming detokenization: ids arrive one at a time, text leaves in deltas (vLLM's prefix_offset/read_offset
// scheme over Tokenizer::decode).
//
// Each step decodes a small window of recent ids twice, without and with the new ids, and emits the difference.
// The window's first id gives context, so SentencePiece's leading-space stripping and Metaspace's first-token rule
// apply to the context id in both decodes and never to new text. A delta is held back while the decoded text ends
// in U+FFFD (an unfinished UTF-8 or byte-fallback sequence), so no delta ends inside a character.
// Contract: with an empty prompt, the concatenation of every add() and the final flush() equals
// tokenizer.decode(ids, skip_special_tokens); with a prompt, it is the text the ids add after the prompt's text.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace pagedllm {

class IncrementalDetokenizer {
 public:
  // `tokenizer` must outlive this object.
  IncrementalDetokenizer(const Tokenizer& tokenizer, std::span<const int32_t> prompt_ids, bool skip_special_tokens);

  std::string add(int32_t id);  // new text, possibly empty
  std::string flush();          // what is held back at the end (an unfinished sequence decodes as U+FFFD, like HF)

 private:
  // The text the ids from read_offset_ on add to the window starting at prefix_offset_.
  std::string pending_delta() const;

  const Tokenizer& tokenizer_;
  bool skip_special_tokens_;
  std::vector<int32_t> ids_;  // the prompt's context ids, then every added id
  size_t prefix_offset_ = 0;  // start of the decode window
  size_t read_offset_ = 0;    // ids before this have been emitted
};

}  // namespace pagedllm
