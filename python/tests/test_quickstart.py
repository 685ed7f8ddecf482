"""vLLM's quick start, as written, with `pagedllm` for `vllm` and the demo model's folder."""

import os
import subprocess
import sys

from conftest import PACKAGE_PARENT, SOURCE_DIR


def test_four_lines_run_as_written_and_print_sensible_outputs():
    script = (
        "from pagedllm import LLM\n"
        'prompts = ["Hello, my name is", "The capital of France is"]\n'
        'llm = LLM(model="models/stories260K")\n'
        "outputs = llm.generate(prompts)\n"
        "for output in outputs:\n"
        "    print(repr(output.prompt), repr(output.outputs[0].text), len(output.outputs[0].token_ids),\n"
        "          output.outputs[0].finish_reason)\n"
    )
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
    r = subprocess.run([sys.executable, "-c", script], cwd=SOURCE_DIR, env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2, r.stdout
    assert lines[0].startswith("'Hello, my name is' '")
    assert lines[1].startswith("'The capital of France is' '")
    for line in lines:
        # SamplingParams() defaults: up to 16 tokens at temperature 1 (the engine's seed 0 makes them repeatable).
        head, num_tokens, finish_reason = line.rsplit(" ", 2)
        assert 1 <= int(num_tokens) <= 16 and finish_reason in ("length", "stop"), line
        text = head.split("' '", 1)[1][:-1]
        assert len(text) > 5 and any(c.isalpha() for c in text), line
    assert "Processed prompts" in r.stderr  # the progress bar


def test_package_exports_vllm_names_with_docstrings():
    import pagedllm
    for name in ("LLM", "SamplingParams", "RequestOutput", "CompletionOutput", "LoRARequest", "finetune"):
        obj = getattr(pagedllm, name)
        assert obj.__doc__ and len(obj.__doc__) > 40, name
    assert "max_num_seqs" in pagedllm.LLM.__doc__
    assert "temperature" in pagedllm.SamplingParams.__doc__
    stub = os.path.join(os.path.dirname(pagedllm.__file__), "_pagedllm.pyi")
    assert os.path.isfile(stub)
