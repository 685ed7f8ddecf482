"""Shared fixtures of the Python suite: where the repository, its models and the pagedllm binary are, and one
stories260K engine reused by the tests that only read from it (loading is cheap, but 64-prompt batches are not)."""

import json
import os
import subprocess
import sys

import pytest

SOURCE_DIR = os.environ.get("PAGEDLLM_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BINARY = os.environ.get("PAGEDLLM_BINARY", os.path.join(SOURCE_DIR, "build", "pagedllm"))
STORIES = os.path.join(SOURCE_DIR, "models", "stories260K")
PACKAGE_PARENT = os.path.join(SOURCE_DIR, "build", "python")

# Run as `python3 -m pytest python/tests` from a build without PYTHONPATH: use the built package.
if not any(os.path.isfile(os.path.join(p, "pagedllm", "__init__.py")) for p in sys.path if p):
    sys.path.insert(0, PACKAGE_PARENT)


def run_cli(*args, stdin=None):
    """Runs the pagedllm binary; returns stdout (raises with stderr on failure)."""
    r = subprocess.run([BINARY, *args], input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"pagedllm {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r.stdout


def cli_generate_json(*args):
    """`pagedllm generate ... --json` as a list of RequestOutput dicts."""
    out = run_cli("generate", "--model", STORIES, *args, "--json")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def output_as_cli_json(r):
    """A Python RequestOutput in the shape `generate --json` prints (logprobs as {"id": logprob} per token)."""
    outputs = []
    for c in r.outputs:
        logprobs = None
        if c.logprobs is not None:
            logprobs = [{str(t): lp.logprob for t, lp in step.items()} for step in c.logprobs]
        outputs.append({"index": c.index, "text": c.text, "token_ids": c.token_ids,
                        "cumulative_logprob": c.cumulative_logprob, "logprobs": logprobs,
                        "finish_reason": c.finish_reason, "stop_reason": c.stop_reason})
    return {"request_id": r.request_id, "prompt": r.prompt, "prompt_token_ids": r.prompt_token_ids,
            "outputs": outputs, "finished": r.finished}


def resident_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.fixture(scope="session")
def stories_llm():
    from pagedllm import LLM
    return LLM(model=STORIES, num_kv_blocks=512)
