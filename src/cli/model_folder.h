// The first check on a --model argument, before anything is loaded, so that a new user's most common mistakes
// (a mistyped path, a Hugging Face hub id, the .safetensors file instead of its folder) get a message that says
// what to pass instead of a later error about a missing tokenizer or config.
#pragma once

#include <string>

namespace pagedllm {

// Throws Error(kNotFound) when `path` does not exist or is a folder without config.json, and
// Error(kInvalidArgument) when it is a file (a model is a folder). `flag` names the flag in the message.
void check_model_folder(const std::string& path, const std::string& flag = "--model");

}  // namespace pagedllm
