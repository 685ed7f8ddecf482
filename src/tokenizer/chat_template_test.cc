#include "tokenizer/chat_template.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/error.h"
#include "util/mapped_file.h"

namespace pagedllm {
namespace {

const std::string kTemplateDir = PAGEDLLM_SOURCE_DIR "/tests/fixtures/chat_templates/";

nlohmann::ordered_json load_json(const std::string& path) {
  std::ifstream f(path);
  return nlohmann::ordered_json::parse(f);
}

// Every shared template renders exactly like its expected/*.json (made with Python jinja2 3.1.6), and raises where
// jinja2 raised with the template's own message.
TEST(ChatTemplate, SharedTemplatesRenderLikeTransformers) {
  int num_cases = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kTemplateDir + "expected")) {
    const nlohmann::ordered_json expected = load_json(entry.path().string());
    const std::string name = expected["template"];
    const ChatTemplate tmpl(read_text_file(kTemplateDir + name));
    const auto& special = expected["special_tokens"];
    for (const auto& c : expected["cases"]) {
      ChatTemplateInputs inputs;
      inputs.messages = c["messages"];
      inputs.add_generation_prompt = c["add_generation_prompt"];
      inputs.bos_token = special.value("bos_token", "");
      inputs.eos_token = special.value("eos_token", "");
      inputs.extra = special;
      const std::string label = name + ": " + c["case"].get<std::string>();
      if (c.contains("rendered")) {
        EXPECT_EQ(tmpl.render(inputs), c["rendered"].get<std::string>()) << label;
      } else {
        const std::string message = c["error"].get<std::string>().substr(std::string("TemplateError: ").size());
        try {
          tmpl.render(inputs);
          ADD_FAILURE() << label << ": expected error " << message;
        } catch (const Error& e) {
          EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
          EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << label << ": " << e.what();
        }
      }
      ++num_cases;
    }
  }
  EXPECT_EQ(num_cases, 36);
}

TEST(ChatTemplate, ErrorsCarryTheTemplateLine) {
  ChatTemplateInputs inputs;
  inputs.messages = {{{"role", "system"}, {"content", "x"}}};
  try {
    render_chat_template("{{ bos_token }}\n{% if messages[0]['role'] == 'system' %}\n{{ raise_exception('no system') }}\n"
                         "{% endif %}",
                         inputs);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "chat template: line 3: no system");
  }
  try {
    ChatTemplate("a\n{% for m in messages %}\n{{ m.content }");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(std::string(e.what()).rfind("chat template: line 3:", 0), 0u) << e.what();
  }
}

TEST(ChatTemplate, VariablesFollowTransformers) {
  ChatTemplateInputs inputs;
  inputs.bos_token = "<s>";
  inputs.add_generation_prompt = true;
  inputs.extra = {{"custom", 7}};
  EXPECT_EQ(render_chat_template("{{ bos_token }}|{{ eos_token is defined }}|{{ tools is none }}|{{ documents is none }}|"
                                 "{{ add_generation_prompt }}|{{ messages | length }}|{{ custom }}",
                                 inputs),
            "<s>|False|True|True|True|0|7");
}

TEST(ChatTemplate, ToolsKeepTheirKeyOrder) {
  ChatTemplateInputs inputs;
  inputs.tools = nlohmann::ordered_json::parse(R"([{"type": "function", "function": {"name": "f", "b": 1, "a": 2}}])");
  EXPECT_EQ(render_chat_template("{% for t in tools %}{{ t | tojson }}{% endfor %}", inputs),
            "{\"type\": \"function\", \"function\": {\"name\": \"f\", \"b\": 1, \"a\": 2}}");
}

TEST(ChatTemplate, ParsedTemplateRendersManyTimes) {
  const ChatTemplate tmpl("{% for m in messages %}[{{ m.role }}]{% endfor %}{% if add_generation_prompt %}>{% endif %}");
  ChatTemplateInputs inputs;
  inputs.messages = {{{"role", "user"}, {"content", "a"}}};
  EXPECT_EQ(tmpl.render(inputs), "[user]");
  inputs.add_generation_prompt = true;
  EXPECT_EQ(tmpl.render(inputs), "[user]>");
}

TEST(ChatTemplate, CommandReadsMessagesAndWritesPrompt) {
  std::istringstream in(R"({"messages": [{"role": "user", "content": "h\u00e9"}], "suffix": "!"})");
  std::ostringstream out;
  EXPECT_EQ(run_chat_template_command("{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}{{ suffix }}"
                                      "{% if add_generation_prompt %}{{ eos_token }}{% endif %}",
                                      "<s>", "</s>", true, in, out),
            0);
  EXPECT_EQ(out.str(), "{\"prompt\":\"<s>h\xC3\xA9!</s>\"}\n");
}

TEST(ChatTemplate, CommandRejectsMalformedInput) {
  for (const char* bad : {"not json", "[]", "{\"messages\": 3}"}) {
    std::istringstream in(bad);
    std::ostringstream out;
    EXPECT_THROW(run_chat_template_command("x", "", "", false, in, out), Error) << bad;
  }
}

}  // namespace
}  // namespace pagedllm
