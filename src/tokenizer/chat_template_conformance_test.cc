// Differential test against Python jinja2 configured as transformers configures it: the script in
// tests/chat_template_conformance/ renders ~2,000 generated conversations over every shared template, plus one
// snippet per language feature, and we must produce the same text, or fail exactly where jinja2 fails.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tokenizer/chat_template.h"
#include "util/error.h"

namespace pagedllm {
namespace {

// Debian's python3-jinja2 lives under /usr/bin/python3; another python3 on PATH may have its own jinja2.
std::string find_python_with_jinja2() {
  for (const char* python : {"/usr/bin/python3", "python3"}) {
    const std::string probe = std::string(python) + " -c 'import jinja2' > /dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return python;
  }
  return "";
}

ChatTemplateInputs inputs_from_context(const nlohmann::ordered_json& context) {
  ChatTemplateInputs inputs;
  for (auto it = context.begin(); it != context.end(); ++it) {
    if (it.key() == "messages") inputs.messages = *it;
    else if (it.key() == "tools") inputs.tools = *it;
    else if (it.key() == "add_generation_prompt") inputs.add_generation_prompt = it->get<bool>();
    else if (it.key() == "bos_token") inputs.bos_token = it->get<std::string>();
    else if (it.key() == "eos_token") inputs.eos_token = it->get<std::string>();
    else inputs.extra[it.key()] = *it;
  }
  return inputs;
}

TEST(ChatTemplateConformance, MatchesPythonJinja2OnGeneratedConversations) {
  const std::string python = find_python_with_jinja2();
  if (python.empty()) GTEST_SKIP() << "python3 with jinja2 (Debian python3-jinja2) is not installed";
  char dir_template[] = "/tmp/pagedllm_chat_template_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string cases_path = std::string(dir_template) + "/cases.json";
  // PAGEDLLM_CHAT_TEMPLATE_CONVERSATIONS (a count per template) widens the run; the default is the script's.
  const char* num_conversations = std::getenv("PAGEDLLM_CHAT_TEMPLATE_CONVERSATIONS");
  const std::string command = python + " " PAGEDLLM_SOURCE_DIR "/tests/chat_template_conformance/generate_cases.py " +
                              cases_path +
                              (num_conversations ? " --conversations " + std::to_string(std::atoi(num_conversations)) : "") +
                              " > /dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream file(cases_path);
  const nlohmann::ordered_json data = nlohmann::ordered_json::parse(file);
  std::remove(cases_path.c_str());
  std::remove(dir_template);

  std::map<std::string, std::unique_ptr<ChatTemplate>> compiled;
  std::map<std::string, std::string> compile_errors;
  for (const auto& [name, source] : data["templates"].items()) {
    try {
      compiled[name] = std::make_unique<ChatTemplate>(source.get<std::string>());
    } catch (const Error& e) {
      compile_errors[name] = e.what();
    }
  }

  int num_cases = 0, num_mismatches = 0, num_errors = 0;
  for (const auto& c : data["cases"]) {
    ++num_cases;
    const std::string name = c["template"];
    const bool want_error = c["expected"].contains("error");
    std::string got;
    bool got_error = false;
    if (compile_errors.count(name)) {
      got_error = true;
      got = compile_errors[name];
    } else {
      try {
        got = compiled[name]->render(inputs_from_context(c["context"]));
      } catch (const Error& e) {
        got_error = true;
        got = e.what();
      }
    }
    num_errors += want_error;
    const bool is_match = want_error ? got_error : (!got_error && got == c["expected"]["rendered"].get<std::string>());
    if (!is_match) {
      ++num_mismatches;
      ADD_FAILURE() << c["name"].get<std::string>() << "\n  jinja2: " << c["expected"].dump()
                    << "\n  ours:   " << (got_error ? "error " : "") << nlohmann::json(got).dump();
      if (num_mismatches >= 30) break;
    }
  }
  std::printf("chat template conformance (jinja2 %s): %d cases (%d expected errors), %d mismatches\n",
              data["jinja2_version"].get<std::string>().c_str(), num_cases, num_errors, num_mismatches);
  EXPECT_EQ(num_mismatches, 0);
  EXPECT_GT(num_cases, 1000);
}

}  // namespace
}  // namespace pagedllm
