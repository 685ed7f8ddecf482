"""LLM.chat renders its template exactly as `pagedllm chat-template` does, and get_tokenizer() round-trips and
matches `pagedllm tokenize`."""

import json
import os

import pytest

from conftest import SOURCE_DIR, STORIES, run_cli
from pagedllm import SamplingParams

TEMPLATES = os.path.join(SOURCE_DIR, "tests", "fixtures", "chat_templates")
CONVERSATION = [
    {"role": "system", "content": "You tell short stories."},
    {"role": "user", "content": "Tell me about Lily."},
    {"role": "assistant", "content": "Lily had a red ball."},
    {"role": "user", "content": "And then?"},
]


def cli_render(template, messages, add_generation_prompt):
    flags = ["--add-generation-prompt"] if add_generation_prompt else []
    out = run_cli("chat-template", "--tokenizer", STORIES, "--template", template, *flags,
                  stdin=json.dumps({"messages": messages}))
    return json.loads(out)["prompt"]


@pytest.mark.parametrize("name", ["zephyr.jinja", "tinyllama-chat.jinja", "llama-2-chat.jinja"])
@pytest.mark.parametrize("add_generation_prompt", [True, False])
def test_chat_template_renders_as_the_cli(stories_llm, name, add_generation_prompt):
    template = os.path.join(TEMPLATES, name)
    expected = cli_render(template, CONVERSATION, add_generation_prompt)
    tokenizer = stories_llm.get_tokenizer()
    text = tokenizer.apply_chat_template(CONVERSATION, chat_template=template,
                                         add_generation_prompt=add_generation_prompt, tokenize=False)
    assert text == expected
    ids = tokenizer.apply_chat_template(CONVERSATION, chat_template=template,
                                        add_generation_prompt=add_generation_prompt)
    assert ids == tokenizer.encode(expected, add_special_tokens=False)


def test_chat_generates_from_the_rendered_prompt(stories_llm):
    template = os.path.join(TEMPLATES, "zephyr.jinja")
    params = SamplingParams(temperature=0, max_tokens=12)
    (out,) = stories_llm.chat(CONVERSATION, params, chat_template=template, use_tqdm=False)
    rendered = cli_render(template, CONVERSATION, True)
    assert out.prompt == rendered
    assert out.prompt_token_ids == stories_llm.get_tokenizer().encode(rendered, add_special_tokens=False)
    (same,) = stories_llm.generate({"prompt_token_ids": out.prompt_token_ids}, params, use_tqdm=False)
    assert out.outputs[0].token_ids == same.outputs[0].token_ids
    # A list of conversations: one output each, in order; the template may also be given as text.
    with open(template) as f:
        source = f.read()
    outs = stories_llm.chat([CONVERSATION[:2], CONVERSATION], params, chat_template=source, use_tqdm=False)
    assert [o.prompt for o in outs] == [cli_render(template, CONVERSATION[:2], True), rendered]
    assert outs[1].outputs[0].token_ids == out.outputs[0].token_ids


def test_chat_without_a_template_raises_value_error(stories_llm):
    with pytest.raises(ValueError, match="chat template"):
        stories_llm.chat(CONVERSATION, use_tqdm=False)
    with pytest.raises(FileNotFoundError, match="no_such.jinja"):
        stories_llm.chat(CONVERSATION, chat_template="no_such.jinja", use_tqdm=False)
    with pytest.raises(ValueError, match="line 1"):
        stories_llm.chat(CONVERSATION, chat_template="{% if %}", use_tqdm=False)


def test_tokenizer_round_trips_and_matches_the_cli(stories_llm):
    tokenizer = stories_llm.get_tokenizer()
    for text in ["Once upon a time", "Lily's mom said, \"Let's go!\"\nTom ran.", "  spaces  and\ttabs", "é ü 日本"]:
        ids = tokenizer.encode(text)
        cli = json.loads(run_cli("tokenize", "--tokenizer", STORIES, stdin=json.dumps({"text": text})))
        assert ids == cli["ids"]
        assert ids[0] == tokenizer.bos_token_id == 1
        assert tokenizer.decode(ids, skip_special_tokens=True) == text
        assert tokenizer.decode(tokenizer.encode(text, add_special_tokens=False)) == text
    assert tokenizer.decode([1, 403]) .startswith("<s>")
    assert tokenizer.eos_token_id == 2 and tokenizer.eos_token == "</s>"
    assert len(tokenizer) == 512
    assert tokenizer.convert_ids_to_tokens(tokenizer.convert_tokens_to_ids("<s>")) == "<s>"
