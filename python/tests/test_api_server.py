"""`python3 -m pagedllm.entrypoints.openai.api_server` serves the OpenAI API: curl /v1/completions against it."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import PACKAGE_PARENT, SOURCE_DIR, STORIES
from pagedllm import LLM, SamplingParams


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
    proc = subprocess.Popen([sys.executable, "-m", "pagedllm.entrypoints.openai.api_server", "--model", STORIES,
                             "--host", "127.0.0.1", "--port", str(port), "--served-model-name", "stories",
                             "--max-model-len", "256"],
                            cwd=SOURCE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        if proc.poll() is not None:
            raise AssertionError(f"api_server exited {proc.returncode}: {proc.stdout.read()}")
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", base + "/health"],
                           capture_output=True, text=True)
        if r.stdout == "200":
            break
        time.sleep(0.1)
    else:
        proc.kill()
        raise AssertionError("api_server did not answer /health")
    yield base, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def curl_json(url, body=None):
    args = ["curl", "-s", url]
    if body is not None:
        args += ["-H", "Content-Type: application/json", "-d", json.dumps(body)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_curl_completions_against_the_api_server(server):
    base, _ = server
    models = curl_json(base + "/v1/models")
    assert [m["id"] for m in models["data"]] == ["stories"]
    body = {"model": "stories", "prompt": "Once upon a time", "max_tokens": 16, "temperature": 0}
    response = curl_json(base + "/v1/completions", body)
    assert response["object"] == "text_completion"
    assert response["model"] == "stories"
    assert response["usage"] == {"prompt_tokens": 5, "completion_tokens": 16, "total_tokens": 21}
    # The same engine as LLM.generate: greedy text equal token for token.
    (expected,) = LLM(model=STORIES).generate("Once upon a time", SamplingParams(temperature=0, max_tokens=16),
                                              use_tqdm=False)
    assert response["choices"][0]["text"] == expected.outputs[0].text
    assert response["choices"][0]["finish_reason"] == "length"


def test_api_server_flags_are_the_serve_flags(server):
    base, _ = server
    too_long = curl_json(base + "/v1/completions", {"model": "stories", "prompt": "Once", "max_tokens": 300})
    assert "maximum context length is 256 tokens" in too_long["error"]["message"]  # --max-model-len 256


def test_api_server_stops_on_sigint(server):
    _, proc = server
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
