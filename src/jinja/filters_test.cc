// Filters, each pinned to the output Python jinja2 produces with transformers' tojson.
#include "jinja/filters.h"

#include <gtest/gtest.h>

#include "jinja/globals.h"
#include "jinja/interpreter.h"
#include "jinja/json.h"
#include "jinja/parser.h"

namespace pagedllm::jinja {
namespace {

std::string render(const std::string& source, const nlohmann::ordered_json& vars = nlohmann::ordered_json::object()) {
  const StmtList body = parse_template(source);
  auto globals = std::make_shared<Scope>();
  add_builtin_globals(*globals);
  for (auto it = vars.begin(); it != vars.end(); ++it) globals->set(it.key(), Value::from_json(*it));
  return Interpreter().render(body, globals);
}

const nlohmann::ordered_json kMsgs = {
    {"msgs", {{{"role", "user"}, {"content", "hi"}}, {{"role", "assistant"}, {"content", "yo"}}}}};

TEST(JinjaFilters, TojsonIsJsonDumpsWithoutHtmlEscaping) {
  const nlohmann::ordered_json vars = {{"d", {{"b", {1, {{"c", "\xC3\xBC"}}}}, {"a", nullptr}, {"n", 1.5}}}};
  EXPECT_EQ(render("{{ d | tojson }}", vars), "{\"b\": [1, {\"c\": \"\xC3\xBC\"}], \"a\": null, \"n\": 1.5}");
  EXPECT_EQ(render("{{ d | tojson(indent=2) }}", vars),
            "{\n  \"b\": [\n    1,\n    {\n      \"c\": \"\xC3\xBC\"\n    }\n  ],\n  \"a\": null,\n  \"n\": 1.5\n}");
  EXPECT_EQ(render("{{ '<>&\\'\"\\n' | tojson }}"), "\"<>&'\\\"\\n\"");
  EXPECT_EQ(render("{{ {} | tojson(indent=4) }}{{ [1.0, none, true] | tojson }}"), "{}[1.0, null, true]");
  EXPECT_EQ(render("{{ {'z': 1, 'a': 2} | tojson(sort_keys=true) }}|{{ [1, 2] | tojson(separators=(',', ':')) }}"),
            "{\"a\": 2, \"z\": 1}|[1,2]");
  EXPECT_EQ(render("{{ '\xC3\xA9\xF0\x9F\x98\x80' | tojson(ensure_ascii=true) }}"), "\"\\u00e9\\ud83d\\ude00\"");
  EXPECT_EQ(render("{{ {1: 'a', true: 'b', none: 'c'} | tojson }}"), "{\"1\": \"b\", \"null\": \"c\"}");
  EXPECT_THROW(render("{{ nothing | tojson }}"), TemplateError);
}

TEST(JinjaFilters, TextFilters) {
  EXPECT_EQ(render("[{{ '  a b \\n' | trim }}][{{ 'xxaxx' | trim('x') }}][{{ none | trim }}]"), "[a b][a][None]");
  EXPECT_EQ(render("{{ 'hello wORLD-foo(bar) [baz] <q>x' | title }} {{ 'hELLO World' | capitalize }} {{ 'aB' | upper }}"),
            "Hello World-Foo(Bar) [Baz] <Q>x Hello world AB");
  EXPECT_EQ(render("{{ 'hello' | replace('l', 'L') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ '<b>' | safe }}"),
            "heLLo bba <b>");
  EXPECT_EQ(render("{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(width='> ', blank=true) }}"),
            "a\n    b\n\n    c|  a\n  b|a\n> \n> b");
  EXPECT_EQ(render("{{ 'hello big  world' | wordcount }} [{{ 'ab' | center(7) }}] {{ '%s-%d' | format('x', 3) }}"),
            "3 [   ab  ] x-3");
  EXPECT_EQ(render("{{ '<a href=\"x\">&\\'' | e }}"), "&lt;a href=&#34;x&#34;&gt;&amp;&#39;");
}

TEST(JinjaFilters, NumberFilters) {
  EXPECT_EQ(render("{{ '42' | int }} {{ '4.7' | int }} {{ 4.7 | int }} {{ 'x' | int(7) }} {{ '0x1A' | int(base=16) }} "
                   "{{ none | int }}"),
            "42 4 4 7 26 0");
  EXPECT_EQ(render("{{ '4.5' | float }} {{ 3 | float }} {{ 'x' | float }} {{ -2.5 | abs }}"), "4.5 3.0 0.0 2.5");
  EXPECT_EQ(render("{{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 2.1 | round(method='ceil') }} "
                   "{{ 7 | round }} {{ 1234.5678 | round(-2) }}"),
            "2.0 4.0 2.67 3.0 7 1200.0");
}

TEST(JinjaFilters, DefaultAndLength) {
  EXPECT_EQ(render("{{ x | default('d') }} {{ none | default('d') }} {{ '' | default('d', true) }} "
                   "{{ 0 | d('z', boolean=true) }} {{ x | default }}|"),
            "d None d z |");
  EXPECT_EQ(render("{{ [1, 2] | length }} {{ 'h\xC3\xA9llo' | length }} {{ {'a': 1} | count }} {{ nothing | length }}"),
            "2 5 1 0");
  EXPECT_THROW(render("{{ 5 | length }}"), TemplateError);
}

TEST(JinjaFilters, SequenceFilters) {
  EXPECT_EQ(render("{{ [1, 2, 3] | first }} {{ [1, 2, 3] | last }} [{{ [] | first }}] {{ msgs | join('|', attribute='role') }}",
                   kMsgs),
            "1 3 [] user|assistant");
  EXPECT_EQ(render("{{ 'abc' | list }} {{ {'a': 1} | list }} {{ [1, 2] | string }} {{ [1, 2, 3] | join }}"),
            "['a', 'b', 'c'] ['a'] [1, 2] 123");
  EXPECT_EQ(render("{% for k, v in d | items %}{{ k }}={{ v }};{% endfor %}", {{"d", {{"b", 1}, {"a", 2}}}}), "b=1;a=2;");
  EXPECT_EQ(render("{{ [1, 2, 1, 3] | unique | list }} {{ ['a', 'A'] | unique | list }} {{ [1, 2] | reverse | list }} "
                   "{{ 'abc' | reverse }}"),
            "[1, 2, 3] ['a'] [2, 1] cba");
  EXPECT_EQ(render("{{ ['b', 'A', 'c'] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} "
                   "{{ msgs | sort(attribute='role') | map(attribute='role') | list }}",
                   kMsgs),
            "['A', 'b', 'c'] [3, 2, 1] ['assistant', 'user']");
  EXPECT_EQ(render("{{ [1, 2, 3, 4, 5] | batch(2) | list }} {{ [1, 2, 3] | sum }} {{ [3, 1] | min }} {{ ['b', 'a'] | max }}"),
            "[[1, 2], [3, 4], [5]] 6 1 b");
  EXPECT_EQ(render("{{ d | dictsort }}", {{"d", {{"b", 1}, {"a", 3}, {"C", 2}}}}), "[('a', 3), ('b', 1), ('C', 2)]");
}

TEST(JinjaFilters, SelectRejectMap) {
  EXPECT_EQ(render("{{ msgs | selectattr('role', 'equalto', 'user') | list }} "
                   "{{ msgs | rejectattr('role', 'eq', 'user') | map(attribute='content') | list }}",
                   kMsgs),
            "[{'role': 'user', 'content': 'hi'}] ['yo']");
  EXPECT_EQ(render("{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 0, 'a', ''] | select | list }} "
                   "{{ [1, 2, 3] | reject('equalto', 2) | list }} {{ ['a'] | map('upper') | list }}"),
            "[1, 3] [1, 'a'] [1, 3] ['A']");
}

TEST(JinjaFilters, GeneratorsAreTruthyAndHaveNoLength) {
  EXPECT_EQ(render("{% if [] | select('odd') %}yes{% endif %}"), "yes");
  EXPECT_THROW(render("{{ [1, 2] | select('odd') | length }}"), TemplateError);
}

TEST(JinjaFilters, UnknownFilterFailsOnlyWhenReached) {
  EXPECT_EQ(render("{% if false %}{{ 1 | frobnicate }}{% endif %}ok"), "ok");
  EXPECT_THROW(render("{{ 1 | frobnicate }}"), TemplateError);
  EXPECT_TRUE(has_filter("tojson"));
  EXPECT_FALSE(has_filter("frobnicate"));
}

TEST(JinjaJson, DumpsLikePythonJson) {
  JsonDumpOptions o;
  EXPECT_EQ(python_json_dumps(Value::list({Value(1e16), Value(0.5), Value("\x01\t")}), o), "[1e+16, 0.5, \"\\u0001\\t\"]");
  o.indent = "";
  o.item_separator = ",";
  EXPECT_EQ(python_json_dumps(Value::list({Value(1), Value(2)}), o), "[\n1,\n2\n]");
}

}  // namespace
}  // namespace pagedllm::jinja
