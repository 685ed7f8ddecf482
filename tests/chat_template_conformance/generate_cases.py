#!/usr/bin/python3
"""Writes conformance cases for pagedllm's chat templates, with the output of Python jinja2 as the reference.

usage: generate_cases.py OUT.json [--conversations N]

Cases: every template in ../fixtures/chat_templates (relative to this file) on N deterministic generated
conversations, each with add_generation_prompt on and off, plus every feature snippet of snippets.py.
Output: {"jinja2_version", "templates": {name: source}, "cases": [{"name", "template", "context", "expected"}]}
where expected is {"rendered": text} or {"error": message}. `context` holds the template variables
(messages, tools, documents, add_generation_prompt, special tokens, ...).
"""
import argparse
import json
import os
import random
import sys

import jinja2

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_render import render  # noqa: E402
from snippets import SNIPPETS  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE_DIR = os.path.normpath(os.path.join(HERE, "..", "fixtures", "chat_templates"))

TEXTS = [
    "Hello! What is the capital of France?",
    "The capital of France is Paris.",
    "  leading spaces", "trailing spaces   ", "\n\nnewlines around\n\n", "tabs\tinside\tthe\ttext",
    "multi\nline\ncontent\n", "   \t\n  ", "", "x",
    "Unicode: café, naïve, Ñandú, Straße, ß", "中文内容，你好世界。", "日本語のテキスト", "한국어 텍스트",
    "emoji 😀🎉👍🏽 and 👨‍👩‍👧‍👦 family", "RTL: مرحبا بالعالم שלום", "combining: e\u0301 a\u0308", "zero\u200bwidth\u00a0nbsp",
    "{{ not a variable }}", "{% if x %}looks like a block{% endif %}", "{# comment? #}", "{{- raw_exception('x') -}}",
    "<|im_start|>assistant\nfake<|im_end|>", "<s>[INST] fake [/INST]</s>", "<|eot_id|><|start_header_id|>",
    "quotes ' and \" and `backticks`", "back\\slash \\n not a newline", "json {\"a\": [1, 2, {\"b\": null}]}",
    "<think>reasoning here</think>final answer", "before</think>after</think>end", "   And what about Germany? Answer in one word.\n",
    "code:\n```python\ndef f(x):\n    return x * 2\n```\n", "a" * 300, "line\r\nwith crlf\r\n", "control \x01\x02 chars \x7f",
]

TOOL_SCHEMAS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Get the current weather in a city",
                                      "parameters": {"type": "object", "properties": {
                                          "city": {"type": "string", "description": "City name, e.g. Paris"},
                                          "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                                          "required": ["city"]}}},
    {"type": "function", "function": {"name": "search", "description": "Search the web for <query> & return \"results\"",
                                      "parameters": {"type": "object", "properties": {
                                          "query": {"type": "string"}, "max_results": {"type": "integer", "default": 5}},
                                          "required": ["query"]}}},
    {"type": "function", "function": {"name": "calculate", "description": "Évalue une expression 数学",
                                      "parameters": {"type": "object", "properties": {"expr": {"type": "string"}}}}},
]


def rand_text(rng):
    if rng.random() < 0.5:
        return rng.choice(TEXTS)
    parts = [rng.choice(TEXTS) for _ in range(rng.randint(1, 3))]
    return rng.choice(["", " ", "\n"]).join(parts)


def rand_tool_call(rng):
    name = rng.choice(["get_weather", "search", "calculate"])
    args = rng.choice([{"city": "Paris"}, {"query": "jinja \"templates\"", "max_results": 3},
                       {"expr": "2 * (3 + 4)", "note": "é"}, {}])
    if rng.random() < 0.3:
        args = json.dumps(args)  # some clients send arguments as a JSON string
    call = {"type": "function", "function": {"name": name, "arguments": args}}
    if rng.random() < 0.5:
        call["id"] = "call_%d" % rng.randint(0, 9999)
    return call


def rand_assistant(rng, allow_tools):
    if allow_tools and rng.random() < 0.35:
        calls = [rand_tool_call(rng) for _ in range(rng.choice([1, 1, 1, 2]))]
        content = rng.choice([None, None, "", "Let me check."])
        return {"role": "assistant", "content": content, "tool_calls": calls}
    return {"role": "assistant", "content": rand_text(rng)}


def rand_tool_result(rng):
    content = rng.choice(['{"temperature": 21, "unit": "celsius"}', "22°C and sunny", "", "result with\nnewline"])
    if rng.random() < 0.15:
        content = {"temperature": 21}
    msg = {"role": "tool", "content": content}
    if rng.random() < 0.5:
        msg["tool_call_id"] = "call_1"
    if rng.random() < 0.3:
        msg["name"] = "get_weather"
    return msg


def make_conversation(rng):
    """Returns (messages, tools, extra variables)."""
    messages = []
    if rng.random() < 0.4:
        messages.append({"role": "system", "content": rand_text(rng)})
    use_tools = rng.random() < 0.3
    if rng.random() < 0.85:  # well-formed alternation
        for turn in range(rng.randint(1, 4)):
            messages.append({"role": "user", "content": rand_text(rng)})
            if turn == 0 and rng.random() < 0.2 and len(messages) == 1:
                continue
            assistant = rand_assistant(rng, use_tools)
            messages.append(assistant)
            if "tool_calls" in assistant:
                for _ in assistant["tool_calls"]:
                    messages.append(rand_tool_result(rng))
                messages.append({"role": "assistant", "content": rand_text(rng)})
        if rng.random() < 0.6:
            messages.append({"role": "user", "content": rand_text(rng)})
    else:  # arbitrary role sequences: templates that check alternation must raise like jinja2
        for _ in range(rng.randint(0, 5)):
            role = rng.choice(["user", "assistant", "system", "tool", "ipython"])
            messages.append(rand_assistant(rng, use_tools) if role == "assistant" else
                            rand_tool_result(rng) if role == "tool" else {"role": role, "content": rand_text(rng)})
    tools = None
    if use_tools and rng.random() < 0.8:
        tools = rng.sample(TOOL_SCHEMAS, rng.randint(1, len(TOOL_SCHEMAS)))
    extra = {}
    if rng.random() < 0.1:
        extra["date_string"] = "01 Jan 2025"
    if rng.random() < 0.05:
        extra["tools_in_user_message"] = False
    if rng.random() < 0.05:
        extra["builtin_tools"] = ["brave_search", "code_interpreter"]
    return messages, tools, extra


def base_context(special_tokens):
    context = {"tools": None, "documents": None}
    for key, value in special_tokens.items():
        context[key] = value
    return context


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--conversations", type=int, default=80)
    args = parser.parse_args()

    templates, cases = {}, []
    for file_name in sorted(os.listdir(TEMPLATE_DIR)):
        if not file_name.endswith(".jinja"):
            continue
        name = file_name[: -len(".jinja")]
        with open(os.path.join(TEMPLATE_DIR, file_name), encoding="utf-8", newline="") as f:
            templates[name] = f.read()
        with open(os.path.join(TEMPLATE_DIR, "expected", name + ".json"), encoding="utf-8") as f:
            special_tokens = json.load(f)["special_tokens"]
        rng = random.Random("pagedllm-chat-template-" + name)
        for i in range(args.conversations):
            messages, tools, extra = make_conversation(rng)
            for add_generation_prompt in (True, False):
                context = base_context(special_tokens)
                context.update(messages=messages, tools=tools, add_generation_prompt=add_generation_prompt, **extra)
                cases.append({"name": "%s/conversation%d/agp=%d" % (name, i, add_generation_prompt),
                              "template": name, "context": context})

    for name, source, extra in SNIPPETS:
        key = "snippet:" + name
        templates[key] = source
        context = base_context({"bos_token": "<s>", "eos_token": "</s>"})
        context.update(messages=[{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello!"}],
                       add_generation_prompt=True, **extra)
        cases.append({"name": key, "template": key, "context": context})

    for case in cases:
        kind, text = render(templates[case["template"]], case["context"])
        case["expected"] = {kind: text}

    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"jinja2_version": jinja2.__version__, "templates": templates, "cases": cases}, f, ensure_ascii=False)
    print("wrote %d cases to %s" % (len(cases), args.out))


if __name__ == "__main__":
    main()
