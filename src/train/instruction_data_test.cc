#include "train/instruction_data.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace pagedllm {
namespace {

std::string render_chat(const nlohmann::json& messages) {
  std::string out;
  for (const auto& m : messages) {
    out += "<|" + m["role"].get<std::string>() + "|>" + m["content"].get<std::string>() + "</s>";
  }
  return out;
}

TEST(InstructionDataTest, AlpacaWithoutInputUsesQloraPrompt) {
  const auto e = parse_example(nlohmann::json::parse(R"({"instruction": "Say hi.", "output": "Hi!"})"), {});
  EXPECT_EQ(e.source,
            "Below is an instruction that describes a task. Write a response that appropriately completes the "
            "request.\n\n### Instruction:\nSay hi.\n\n### Response: ");
  EXPECT_EQ(e.target, "Hi!");
}

TEST(InstructionDataTest, AlpacaWithInputUsesQloraPrompt) {
  const auto e = parse_example(
      nlohmann::json::parse(R"({"instruction": "Add {x}.", "input": "2 and 3", "output": "5"})"), {});
  EXPECT_EQ(e.source,
            "Below is an instruction that describes a task, paired with an input that provides further context. "
            "Write a response that appropriately completes the request.\n\n### Instruction:\nAdd {x}.\n\n### "
            "Input:\n2 and 3\n\n### Response: ");
  EXPECT_EQ(e.target, "5");
}

TEST(InstructionDataTest, EmptyInputCountsAsNoInput) {
  const auto e = parse_example(nlohmann::json::parse(R"({"instruction": "A", "input": "", "output": "B"})"), {});
  EXPECT_EQ(e.source.find("paired with an input"), std::string::npos);
}

TEST(InstructionDataTest, PromptCompletionAndText) {
  const auto pc = parse_example(nlohmann::json::parse(R"({"prompt": "Q: 1+1?", "completion": " 2"})"), {});
  EXPECT_EQ(pc.source, "Q: 1+1?");
  EXPECT_EQ(pc.target, " 2");
  const auto text = parse_example(nlohmann::json::parse(R"({"text": "Once upon a time"})"), {});
  EXPECT_EQ(text.source, "");
  EXPECT_EQ(text.target, "Once upon a time");
}

TEST(InstructionDataTest, MessagesSplitAtTheLastAssistantTurn) {
  const auto e = parse_example(nlohmann::json::parse(R"({"messages": [
      {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]})"),
                               render_chat);
  EXPECT_EQ(e.source, "<|user|>Hi</s>");
  EXPECT_EQ(e.target, "<|assistant|>Hello</s>");
}

TEST(InstructionDataTest, ReportsEveryBadLineWithItsNumber) {
  const std::string contents =
      "{\"text\": \"fine\"}\n"
      "\n"
      "{\"instruction\": \"no output\"}\n"
      "not json\n"
      "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}\n"
      "{\"prompt\": 3, \"completion\": \"y\"}\n";
  try {
    parse_jsonl_examples(contents, "data.jsonl", render_chat);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(message.find("4 bad line(s)"), std::string::npos) << message;
    EXPECT_NE(message.find("data.jsonl:3: missing field \"output\""), std::string::npos) << message;
    EXPECT_NE(message.find("data.jsonl:4: invalid JSON"), std::string::npos) << message;
    EXPECT_NE(message.find("data.jsonl:5: the last message must have role \"assistant\""), std::string::npos)
        << message;
    EXPECT_NE(message.find("data.jsonl:6: field \"prompt\" is not a string"), std::string::npos) << message;
    EXPECT_EQ(message.find("data.jsonl:1:"), std::string::npos) << message;
  }
}

TEST(InstructionDataTest, MessagesWithoutChatTemplateAreBadLines) {
  EXPECT_THROW(parse_jsonl_examples(R"({"messages": [{"role": "assistant", "content": "x"}]})", "d.jsonl", {}),
               Error);
}

TEST(InstructionDataTest, EmptyFileIsAnError) {
  EXPECT_THROW(parse_jsonl_examples("\n\n", "empty.jsonl", {}), Error);
  EXPECT_THROW(load_jsonl_examples("/nonexistent/data.jsonl", {}), Error);
}

}  // namespace
}  // namespace pagedllm
