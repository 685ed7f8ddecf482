"""QLoRA from Python: pagedllm.finetune trains an adapter on the repository's instruction set, and LLM serves it
through LoRARequest answering the held-in prompts as taught (as tests/finetune_test.cc checks the CLI)."""

import json
import os

import pytest

from conftest import SOURCE_DIR, STORIES
from pagedllm import LLM, LoRARequest, SamplingParams, finetune

DATA = os.path.join(SOURCE_DIR, "tests", "data", "stories_instructions.jsonl")
PROMPT_NO_INPUT = ("Below is an instruction that describes a task. Write a response that appropriately completes the "
                   "request.\n\n### Instruction:\n{instruction}\n\n### Response: ")
PROMPT_INPUT = ("Below is an instruction that describes a task, paired with an input that provides further context. "
                "Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n"
                "### Input:\n{input}\n\n### Response: ")


def held_in_examples():
    examples = []
    with open(DATA) as f:
        for line in f:
            e = json.loads(line)
            template = PROMPT_INPUT if e.get("input") else PROMPT_NO_INPUT
            examples.append((template.format(**e), e["output"]))
    return examples


@pytest.fixture(scope="module")
def adapter(tmp_path_factory):
    # The C++ suite's recipe: rank-8 QLoRA at a high learning rate decaying linearly, batches of 4, seed 7.
    steps = []
    result = finetune(model=STORIES, data=DATA, output_dir=str(tmp_path_factory.mktemp("lora") / "stories"),
                      lora_r=8, learning_rate=2e-3, lr_scheduler="linear", batch_size=4, max_seq_len=128, seed=7,
                      max_steps=150, callback=steps.append)
    return result, steps


def test_finetune_returns_the_loss_history_and_writes_a_peft_adapter(adapter):
    result, steps = adapter
    assert len(result.loss_history) == 150
    assert [s["step"] for s in steps] == list(range(1, 151))
    assert [s["loss"] for s in steps] == result.loss_history
    assert sum(result.loss_history[-10:]) / 10 < 0.5 * sum(result.loss_history[:10]) / 10
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        assert os.path.isfile(os.path.join(result.adapter_path, name))
    with open(os.path.join(result.adapter_path, "adapter_config.json")) as f:
        assert json.load(f)["r"] == 8


def test_adapter_served_with_lora_request_answers_held_in_prompts_as_taught(adapter):
    result, _ = adapter
    examples = held_in_examples()
    llm = LLM(model=STORIES, enable_lora=True, max_lora_rank=8)
    params = SamplingParams(temperature=0, max_tokens=24)
    lora = LoRARequest("stories", 1, result.adapter_path)
    taught = llm.generate([p for p, _ in examples], params, lora_request=lora, use_tqdm=False)
    base = llm.generate([p for p, _ in examples], params, use_tqdm=False)
    num_taught = sum(out.outputs[0].text.lstrip(" ").startswith(answer.lstrip(" "))
                     for out, (_, answer) in zip(taught, examples))
    num_base = sum(out.outputs[0].text.lstrip(" ").startswith(answer.lstrip(" "))
                   for out, (_, answer) in zip(base, examples))
    # The C++ suite measured 19-23 of 40 after 150 steps (seeds 7-10) and none for the base model.
    assert num_taught >= 15, [o.outputs[0].text for o in taught]
    assert num_base == 0
    assert all(out.lora_request is lora for out in taught)
    # One request per prompt may name the adapter or not, in the same batch.
    mixed = llm.generate([examples[0][0]] * 2, params, lora_request=[lora, None], use_tqdm=False)
    assert mixed[0].outputs[0].token_ids == taught[0].outputs[0].token_ids
    assert mixed[1].outputs[0].token_ids == base[0].outputs[0].token_ids


def test_lora_request_needs_enable_lora_and_a_folder(adapter):
    result, _ = adapter
    llm = LLM(model=STORIES)
    with pytest.raises(ValueError, match="enable_lora"):
        llm.generate("Hi", lora_request=LoRARequest("stories", 1, result.adapter_path), use_tqdm=False)
    llm = LLM(model=STORIES, enable_lora=True, max_lora_rank=4)
    with pytest.raises(FileNotFoundError, match="/no/such/adapter"):
        llm.generate("Hi", lora_request=LoRARequest("x", 2, "/no/such/adapter"), use_tqdm=False)
    with pytest.raises(ValueError, match="rank"):  # r=8 above max_lora_rank=4
        llm.generate("Hi", lora_request=LoRARequest("stories", 1, result.adapter_path), use_tqdm=False)
    with pytest.raises(ValueError, match="lora_int_id"):
        LoRARequest("x", 0, result.adapter_path)


def test_finetune_rejects_bad_options_naming_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="/no/such/data.jsonl"):
        finetune(model=STORIES, data="/no/such/data.jsonl", output_dir=str(tmp_path / "a"))
    with pytest.raises(ValueError, match="lora_r"):
        finetune(model=STORIES, data=DATA, output_dir=str(tmp_path / "a"), lora_r=0)
    with pytest.raises(ValueError, match="lr_scheduler"):
        finetune(model=STORIES, data=DATA, output_dir=str(tmp_path / "a"), lr_scheduler="exponential")
    with pytest.raises(ValueError, match="lora_target_modules"):
        finetune(model=STORIES, data=DATA, output_dir=str(tmp_path / "a"), lora_target_modules="qkv")
    with pytest.raises(TypeError, match="finetune"):
        finetune(model=STORIES, data=DATA, output_dir=str(tmp_path / "a"), lora_rank=8)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": 3}\n')
    with pytest.raises(ValueError, match="bad.jsonl"):
        finetune(model=STORIES, data=str(bad), output_dir=str(tmp_path / "b"), max_steps=1)


def test_interrupted_run_resumes_from_its_checkpoint(tmp_path):
    out = str(tmp_path / "interrupted")
    options = dict(model=STORIES, data=DATA, output_dir=out, lora_r=4, batch_size=2, max_seq_len=64, max_steps=5,
                   save_steps=1, seed=3)

    def interrupt_at_step_2(step):
        if step["step"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        finetune(**options, callback=interrupt_at_step_2)
    assert not os.path.exists(os.path.join(out, "adapter_model.safetensors"))
    assert os.path.isfile(os.path.join(out, "checkpoint", "training_state.safetensors"))
    resumed = finetune(**options, resume=True)
    assert len(resumed.loss_history) == 3  # steps 3, 4 and 5
    assert os.path.isfile(os.path.join(resumed.adapter_path, "adapter_model.safetensors"))
    full = finetune(**dict(options, output_dir=str(tmp_path / "full")))
    with open(os.path.join(out, "adapter_model.safetensors"), "rb") as a, \
            open(os.path.join(full.adapter_path, "adapter_model.safetensors"), "rb") as b:
        assert a.read() == b.read()  # as the CLI's SIGKILL test: resumed ends bit-identical
    assert full.loss_history[2:] == resumed.loss_history
