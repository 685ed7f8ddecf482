"""Structured outputs in the offline API (vLLM's StructuredOutputsParams / GuidedDecodingParams): sampled at
temperature 1 from stories260K, every output must follow its constraint exactly."""

import json
import re

import pytest

from pagedllm import GuidedDecodingParams, SamplingParams, StructuredOutputsParams

PROMPTS = ["Once upon a time", "Lily and Tom", "The little dog"]


def sample(llm, structured, n=3, max_tokens=80, seed=11):
    params = SamplingParams(temperature=1.0, seed=seed, n=n, max_tokens=max_tokens, structured_outputs=structured)
    return [c for r in llm.generate(PROMPTS, params) for c in r.outputs]


def test_choice_outputs_are_one_of_the_choices(stories_llm):
    choices = ["yes", "no", "maybe later"]
    outs = sample(stories_llm, StructuredOutputsParams(choice=choices))
    assert len(outs) == 9
    for c in outs:
        assert c.text in choices
        assert c.finish_reason == "stop"


def test_regex_outputs_match_the_whole_pattern(stories_llm):
    pattern = r"[A-Z][a-z]{1,6} (is|was) [0-9]{1,2}"
    for c in sample(stories_llm, GuidedDecodingParams(regex=pattern)):
        assert re.fullmatch(pattern, c.text), c.text


def test_json_schema_outputs_validate_and_keep_the_schema_property_order(stories_llm):
    schema = {
        "type": "object",
        "properties": {
            "zeta": {"type": "integer", "minimum": 0, "maximum": 99},
            "alpha": {"type": "string", "maxLength": 6},
            "mid": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 2},
        },
        "required": ["zeta", "alpha", "mid"],
        "additionalProperties": False,
    }
    outs = sample(stories_llm, StructuredOutputsParams(json=schema), max_tokens=120)
    finished = [c for c in outs if c.finish_reason == "stop"]
    assert len(finished) >= 6, [c.text for c in outs]
    for c in finished:
        value = json.loads(c.text)
        assert list(value) == ["zeta", "alpha", "mid"]  # the dict's order, not alphabetical
        assert isinstance(value["zeta"], int) and 0 <= value["zeta"] <= 99
        assert isinstance(value["alpha"], str) and len(value["alpha"]) <= 6
        assert all(x in ("a", "b") for x in value["mid"]) and len(value["mid"]) <= 2
        assert " " not in c.text.replace(value["alpha"], "")  # compact JSON by default


def test_json_object_and_grammar(stories_llm):
    for c in sample(stories_llm, StructuredOutputsParams(json_object=True), n=1, max_tokens=120):
        if c.finish_reason == "stop":
            assert isinstance(json.loads(c.text), dict)
    grammar = 'root ::= "The " animal " ran."\nanimal ::= "cat" | "dog" | "bird"'
    for c in sample(stories_llm, StructuredOutputsParams(grammar=grammar)):
        assert c.text in ("The cat ran.", "The dog ran.", "The bird ran.")


def test_bad_constraints_are_refused_with_the_reason(stories_llm):
    with pytest.raises(ValueError, match="one kind of structured outputs"):
        StructuredOutputsParams(regex="a", choice=["a"])
    with pytest.raises(ValueError, match="one kind of structured outputs"):
        StructuredOutputsParams()
    with pytest.raises(ValueError, match="choice must be a non-empty list"):
        StructuredOutputsParams(choice=[])
    with pytest.raises(ValueError, match="not both"):
        SamplingParams(structured_outputs=StructuredOutputsParams(regex="a"),
                       guided_decoding=StructuredOutputsParams(regex="b"))
    # A keyword the compiler cannot enforce is named (NotImplementedError, as for other valid input pagedllm does
    # not handle), and so is a regex outside what the compiler reads; the engine keeps serving afterwards.
    with pytest.raises(NotImplementedError, match="minProperties"):
        stories_llm.generate(["Hi"], SamplingParams(structured_outputs=StructuredOutputsParams(
            json={"type": "object", "minProperties": 2})))
    with pytest.raises(NotImplementedError, match="unterminated group"):
        stories_llm.generate(["Hi"], SamplingParams(structured_outputs=StructuredOutputsParams(regex="(unclosed")))
    out = stories_llm.generate(["Hi"], SamplingParams(max_tokens=4, structured_outputs=StructuredOutputsParams(
        choice=["ok"])))
    assert out[0].outputs[0].text == "ok"
