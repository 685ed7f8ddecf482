// Language features, each pinned to the output Python jinja2 produces (checked with
// tests/chat_template_conformance/reference_render.py).
#include "jinja/interpreter.h"

#include <gtest/gtest.h>

#include "jinja/globals.h"
#include "jinja/parser.h"

namespace pagedllm::jinja {
namespace {

std::string render(const std::string& source, const nlohmann::ordered_json& vars = nlohmann::ordered_json::object(),
                   RenderLimits limits = {}) {
  const StmtList body = parse_template(source);
  auto globals = std::make_shared<Scope>();
  add_builtin_globals(*globals);
  for (auto it = vars.begin(); it != vars.end(); ++it) globals->set(it.key(), Value::from_json(*it));
  Interpreter interp(limits);
  return interp.render(body, globals);
}

const nlohmann::ordered_json kMsgs = {
    {"msgs", {{{"role", "user"}, {"content", "hi"}}, {{"role", "assistant"}, {"content", "yo"}}}}};

TEST(JinjaInterpreter, IfElifElse) {
  EXPECT_EQ(render("{% for x in [1, 2, 3, 4] %}{% if x == 1 %}one{% elif x == 2 %}two{% elif x == 3 %}three"
                   "{% else %}many{% endif %},{% endfor %}"),
            "one,two,three,many,");
}

TEST(JinjaInterpreter, LoopVariables) {
  EXPECT_EQ(render("{% for m in msgs %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/"
                   "{{ loop.first }}/{{ loop.last }}/{{ loop.length }};{% endfor %}",
                   kMsgs),
            "1/0/2/1/True/False/2;2/1/1/0/False/True/2;");
  EXPECT_EQ(render("{% for x in [1, 2, 3] %}[{{ loop.previtem }}|{{ loop.nextitem }}]{% endfor %}"), "[|2][1|3][2|]");
  EXPECT_EQ(render("{% for x in [1, 2, 3] %}{{ loop.cycle('a', 'b') }}{% endfor %}"), "aba");
}

TEST(JinjaInterpreter, LoopElseFilterBreakContinue) {
  EXPECT_EQ(render("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(render("{% for x in range(10) if x is odd %}{{ x }}:{{ loop.index }}:{{ loop.last }},{% endfor %}"),
            "1:1:False,3:2:False,5:3:False,7:4:False,9:5:True,");
  EXPECT_EQ(render("{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}"
                   "{% endif %}{{ x }}{% endfor %}"),
            "0134");
}

TEST(JinjaInterpreter, LoopUnpacksAndIteratesDictsStringsUndefined) {
  EXPECT_EQ(render("{% for a, b in [[1, 2], (3, 4)] %}{{ a }}-{{ b }},{% endfor %}"), "1-2,3-4,");
  EXPECT_EQ(render("{% for k, v in {'x': 1}.items() %}{{ k }}{{ v }}{% endfor %}"), "x1");
  EXPECT_EQ(render("{% for k in {'b': 1, 'a': 2} %}{{ k }}{% endfor %}"), "ba");
  EXPECT_EQ(render("{% for c in 'h\xC3\xA9y' %}[{{ c }}]{% endfor %}"), "[h][\xC3\xA9][y]");
  EXPECT_EQ(render("{% for x in nothing %}x{% else %}none{% endfor %}"), "none");
  EXPECT_THROW(render("{% for x in n %}{% endfor %}", {{"n", nullptr}}), TemplateError);
}

TEST(JinjaInterpreter, EachIterationHasItsOwnScope) {
  EXPECT_EQ(render("{% set x = 1 %}{% for i in range(3) %}{{ x }}{% set x = x + 1 %}{{ x }},{% endfor %}{{ x }}"),
            "12,12,12,1");
  EXPECT_EQ(render("{% for i in range(3) %}{% if i == 1 %}{% set y = 5 %}{% endif %}[{{ y }}]{% endfor %}"),
            "[][5][]");
  EXPECT_EQ(render("{% if true %}{% set z = 3 %}{% endif %}{{ z }}"), "3");
}

TEST(JinjaInterpreter, NamespaceCarriesStateOutOfLoops) {
  EXPECT_EQ(render("{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}"),
            "6");
  EXPECT_EQ(render("{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns.c }}|{{ ns }}"),
            "12|<Namespace {'a': 1, 'b': 2}>");
  EXPECT_THROW(render("{% set x = 1 %}{% set x.y = 2 %}"), TemplateError);
}

TEST(JinjaInterpreter, SetForms) {
  EXPECT_EQ(render("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c = 1, 2 %}{{ c }}"), "12(1, 2)");
  EXPECT_EQ(render("{% set x %}hello {{ 'w' }}{% endset %}[{{ x }}]{% set y | upper %}abc{% endset %}{{ y }}"),
            "[hello w]ABC");
}

TEST(JinjaInterpreter, MacrosWithDefaultsKeywordsAndRecursion) {
  EXPECT_EQ(render("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}"
                   "{{ greet('a') }} {{ greet('b', '?') }} {{ greet(punct='.', name='c') }} [{{ greet() }}]"),
            "Hi a! Hi b? Hi c. [Hi !]");
  EXPECT_EQ(render("{% macro f(n) %}{% if n <= 1 %}1{% else %}{{ n }}*{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(4) }}"),
            "4*3*2*1");
  EXPECT_THROW(render("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}"), TemplateError);
  EXPECT_THROW(render("{% macro m(a) %}{% endmacro %}{{ m(b=2) }}"), TemplateError);
}

TEST(JinjaInterpreter, RecursionAndOutputAreBounded) {
  EXPECT_THROW(render("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"), TemplateError);
  RenderLimits small;
  small.max_output_bytes = 100;
  EXPECT_THROW(render("{% for i in range(1000) %}xx{% endfor %}", {}, small), TemplateError);
  EXPECT_THROW(render("{{ range(1000000) | length }}"), TemplateError);  // the sandbox's MAX_RANGE
}

TEST(JinjaInterpreter, PrintsPythonReprs) {
  EXPECT_EQ(render("{{ ['a', 1, 2.5, none, true, {'k': 'v'}, (1,)] }}"), "['a', 1, 2.5, None, True, {'k': 'v'}, (1,)]");
  EXPECT_EQ(render("{{ 1, 2 }}|{{ 10 / 5 }}|[{{ nothing }}]"), "(1, 2)|2.0|[]");
}

TEST(JinjaInterpreter, ArithmeticFollowsPython) {
  EXPECT_EQ(render("{{ 7 / 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -2 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }}"),
            "3.5 -4 2 1024 0.25 3.0 0.5");
  EXPECT_EQ(render("{{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 'ab' * 2 }} {{ [1] + [2] }} {{ 'a' ~ 1 ~ none }}"),
            "64 4 abab [1, 2] a1None");
  EXPECT_THROW(render("{{ 'a' + 1 }}"), TemplateError);
  EXPECT_THROW(render("{{ 1 / 0 }}"), TemplateError);
  EXPECT_THROW(render("{{ 9223372036854775807 + 1 }}"), TemplateError);
}

TEST(JinjaInterpreter, LogicReturnsOperandsLikePython) {
  EXPECT_EQ(render("{{ 0 or 'x' }}|{{ 'a' and 'b' }}|{{ '' and 'b' }}|{{ [] or none }}|{{ not undefined_var }}"),
            "x|b||None|True");
  EXPECT_EQ(render("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ 'a' in 'cat' }} {{ 3 not in [1] }}"),
            "True False True True True");
  EXPECT_EQ(render("{{ 'y' if false }}|{{ 'a' if x == 1 else 'b' if x == 2 else 'c' }}", {{"x", 2}}), "|b");
}

TEST(JinjaInterpreter, AttributeItemAndSliceAccess) {
  EXPECT_EQ(render("{{ msgs[0].role }} {{ msgs[1]['content'] }} {{ msgs.0.role }} {{ msgs[-1].role }}", kMsgs),
            "user yo user assistant");
  EXPECT_EQ(render("[{{ msgs[0].missing }}][{{ msgs[9] }}]{{ msgs[0].missing is defined }}", kMsgs), "[][]False");
  EXPECT_EQ(render("{{ [1,2,3,4,5][1:3] }} {{ [1,2,3,4,5][::-1] }} {{ [1,2,3,4,5][4:1:-2] }} {{ 'h\xC3\xA9llo'[::-1] }}"),
            "[2, 3] [5, 4, 3, 2, 1] [5, 3] oll\xC3\xA9h");
  EXPECT_THROW(render("{{ nothing.attr }}"), TemplateError);
  EXPECT_THROW(render("{{ nothing['x'] }}"), TemplateError);
  EXPECT_EQ(render("[{{ n.attr }}]", {{"n", nullptr}}), "[]");
}

TEST(JinjaInterpreter, SandboxMakesMutatingMethodsUndefined) {
  EXPECT_EQ(render("{{ [1].append is defined }}|{{ {'a': 1}.pop is defined }}|{{ d.items is defined }}",
                   {{"d", {{"items", 1}}}}),
            "False|False|True");
  EXPECT_THROW(render("{{ x.append(2) }}", {{"x", {1}}}), TemplateError);
}

TEST(JinjaInterpreter, StringAndDictMethods) {
  EXPECT_EQ(render("[{{ s.strip() }}][{{ s.lstrip() }}][{{ 'xxaxx'.strip('x') }}]", {{"s", " \t a \n"}}),
            "[a][a \n][a]");
  EXPECT_EQ(render("{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a b c'.rsplit(' ', 1) }}"),
            "['a', 'b', '', 'c'] ['a', 'b'] ['a', 'b c'] ['a b', 'c']");
  EXPECT_EQ(render("{{ 'hello'.startswith(('x', 'h')) }} {{ 'hello'.endswith('lo') }} {{ 'hi yo-x'.title() }} "
                   "{{ 'h\xC3\xA9llo'.find('l') }} {{ '{} and {name}'.format(1, name='n') }}"),
            "True True Hi Yo-X 2 1 and n");
  EXPECT_EQ(render("{{ d.items() | list }} {{ d.keys() | list }} {{ d.values() | list }} {{ d.get('z', 5) }}",
                   {{"d", {{"a", 1}, {"b", 2}}}}),
            "[('a', 1), ('b', 2)] ['a', 'b'] [1, 2] 5");
}

TEST(JinjaInterpreter, IsTests) {
  EXPECT_EQ(render("{{ 1 is number }} {{ true is integer }} {{ true is number }} {{ {} is mapping }} {{ 1 is iterable }} "
                   "{{ nothing is iterable }} {{ none is none }} {{ x is not defined }}"),
            "True False True True False True True True");
  EXPECT_EQ(render("{{ 1 is equalto 1 }} {{ 'a' is eq 'b' }} {{ 3 is odd }} {{ 9 is divisibleby 3 }} {{ 1 is in [1] }} "
                   "{{ 0 is false }} {{ false is false }}"),
            "True False True True True False True");
}

TEST(JinjaInterpreter, GlobalsAndBlocks) {
  EXPECT_EQ(render("{{ range(10, 0, -3) | list }} {{ dict(a=1) }}"), "[10, 7, 4, 1] {'a': 1}");
  EXPECT_EQ(render("{% filter upper %}hi {{ 'x' }}{% endfilter %}"), "HI X");
  EXPECT_EQ(render("{% with a = 1 %}{{ a }}{% endwith %}[{{ a }}]"), "1[]");
  EXPECT_EQ(render("{% generation %}g{% endgeneration %}"), "g");
  EXPECT_EQ(render("{% raw %}{{ x }}{% endraw %}"), "{{ x }}");
}

TEST(JinjaInterpreter, ErrorsNameTheTemplateLine) {
  try {
    render("a\n\n{% for m in [1] %}\n{{ raise_exception('bad ' ~ m) }}{% endfor %}");
    FAIL();
  } catch (const TemplateError& e) {
    EXPECT_STREQ(e.what(), "line 4: bad 1");
  }
  try {
    render("x\n{{ 1 +\n 'a' }}");
    FAIL();
  } catch (const TemplateError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("line 2: TypeError", 0), 0u) << e.what();
  }
  try {
    parse_template("a\n{% if x %}\n{% endfor %}");
    FAIL();
  } catch (const TemplateError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("line 3:", 0), 0u) << e.what();
  }
}

TEST(JinjaInterpreter, SyntaxErrorsAreRejected) {
  for (const char* bad : {"{% if true %}x", "{% frobnicate %}", "{{ 1 + }}", "{% break %}", "{% for x in y %}{% endif %}",
                          "{% if 1 if 2 else 3 %}x{% endif %}", "{{ 007 }}"}) {
    EXPECT_THROW(parse_template(bad), TemplateError) << bad;
  }
}

TEST(JinjaInterpreter, DeepNestingFailsCleanly) {
  EXPECT_THROW(parse_template("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}"), TemplateError);
  EXPECT_THROW(parse_template("{{ " + std::string(5000, '-') + "1 }}"), TemplateError);
  std::string nested_ifs;
  for (int i = 0; i < 1000; ++i) nested_ifs += "{% if x %}";
  EXPECT_THROW(parse_template(nested_ifs), TemplateError);
}

}  // namespace
}  // namespace pagedllm::jinja
