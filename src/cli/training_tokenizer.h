// A model's tokenizer (and chat template) as the trainer takes it: src/train does not link the tokenizer. The finetune
// command and the Python package's pagedllm.finetune both bind it here, so their runs see identical tokens.
#pragma once

#include <memory>
#include <string>

#include "tokenizer/tokenizer.h"
#include "train/trainer.h"

namespace pagedllm {

// chat_template: the template source to render `messages` examples with; empty: the tokenizer's own (if any).
TrainingTokenizer bind_tokenizer(std::shared_ptr<const Tokenizer> tokenizer, const std::string& chat_template);

}  // namespace pagedllm
