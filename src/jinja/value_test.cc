#include "jinja/value.h"

#include <gtest/gtest.h>

#include <cmath>

namespace pagedllm::jinja {
namespace {

TEST(JinjaValue, FloatReprMatchesPython) {
  EXPECT_EQ(python_float_repr(1.0), "1.0");
  EXPECT_EQ(python_float_repr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(python_float_repr(1e16), "1e+16");
  EXPECT_EQ(python_float_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(python_float_repr(0.0001), "0.0001");
  EXPECT_EQ(python_float_repr(0.00001), "1e-05");
  EXPECT_EQ(python_float_repr(-2.5e-7), "-2.5e-07");
  EXPECT_EQ(python_float_repr(1.5e300), "1.5e+300");
  EXPECT_EQ(python_float_repr(-0.0), "-0.0");
  EXPECT_EQ(python_float_repr(INFINITY), "inf");
  EXPECT_EQ(python_float_repr(NAN), "nan");
}

TEST(JinjaValue, StringReprChoosesQuotesAndEscapes) {
  EXPECT_EQ(python_string_repr("a"), "'a'");
  EXPECT_EQ(python_string_repr("it's"), "\"it's\"");
  EXPECT_EQ(python_string_repr("'\""), "'\\'\"'");
  EXPECT_EQ(python_string_repr("a\nb\t\\"), "'a\\nb\\t\\\\'");
  EXPECT_EQ(python_string_repr("\x01\x7f\xC2\xA0\xC3\xA9"), "'\\x01\\x7f\\xa0\xC3\xA9'");  // é stays, nbsp escapes
}

TEST(JinjaValue, PrintsLikePythonStr) {
  Value d = Value::dict();
  d.as_dict()->set(Value("k"), Value::list({Value(1), Value(None{}), Value(true), Value(2.5), Value("s")}));
  d.as_dict()->set(Value(3), Value::tuple({Value(1)}));
  EXPECT_EQ(d.str(), "{'k': [1, None, True, 2.5, 's'], 3: (1,)}");
  EXPECT_EQ(Value("plain").str(), "plain");
  EXPECT_EQ(Value::undefined("x").str(), "");
}

TEST(JinjaValue, TruthinessFollowsPython) {
  EXPECT_FALSE(Value("").truthy());
  EXPECT_FALSE(Value(0.0).truthy());
  EXPECT_FALSE(Value::list().truthy());
  EXPECT_FALSE(Value::undefined("x").truthy());
  EXPECT_TRUE(Value::generator({}).truthy());  // generators are truthy even when empty
  EXPECT_TRUE(Value(" ").truthy());
}

TEST(JinjaValue, EqualityCrossesNumericTypes) {
  EXPECT_TRUE(values_equal(Value(1), Value(1.0)));
  EXPECT_TRUE(values_equal(Value(true), Value(1)));
  EXPECT_FALSE(values_equal(Value(1), Value("1")));
  EXPECT_TRUE(values_equal(Value::undefined("a"), Value::undefined("b")));
  EXPECT_FALSE(values_equal(Value::list({Value(1)}), Value::tuple({Value(1)})));
  EXPECT_EQ(compare_values(Value::list({Value(1), Value(2)}), Value::list({Value(1), Value(3)})), -1);
  EXPECT_THROW(compare_values(Value("a"), Value(1)), TemplateError);
}

TEST(JinjaValue, FromJsonKeepsKeyOrder) {
  const Value v = Value::from_json(nlohmann::ordered_json::parse(R"({"z": 1, "a": [true, null, 1.5, "x"]})"));
  EXPECT_EQ(v.repr(), "{'z': 1, 'a': [True, None, 1.5, 'x']}");
}

}  // namespace
}  // namespace pagedllm::jinja
