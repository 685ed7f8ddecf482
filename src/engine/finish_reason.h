// Why a sample stopped, as the engine reports it. The API layers spell it with finish_reason_name (OpenAI's and
// vLLM's words); the server may report a "stop" whose text parsed into tool calls as "tool_calls".
#pragma once

namespace pagedllm {

enum class FinishReason {
  kStop,    // EOS, a stop token, a stop string, or a finished structured output
  kLength,  // max_tokens or the model's context length
  kAbort,   // cancelled by the client or by shutdown
};

// "stop", "length", "abort".
const char* finish_reason_name(FinishReason reason);

}  // namespace pagedllm
