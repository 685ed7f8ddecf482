"""Engines as Python objects: two in one process, memory returned after `del`, generate from two threads,
Ctrl-C during generate."""

import gc
import os
import signal
import threading

import pytest

from conftest import SOURCE_DIR, STORIES, resident_bytes
from pagedllm import LLM, SamplingParams

GREEDY = SamplingParams(temperature=0, max_tokens=32)
PROMPTS = ["Once upon a time", "Lily and Tom", "The little dog", "One day, a girl"]


def greedy_ids(llm, prompts):
    return [o.outputs[0].token_ids for o in llm.generate(prompts, GREEDY, use_tqdm=False)]


def test_two_llm_objects_in_one_process(stories_llm):
    expected = greedy_ids(stories_llm, PROMPTS)
    other = LLM(model=STORIES, quantization="nf4", block_size=8)
    quantized = greedy_ids(other, PROMPTS)
    assert greedy_ids(stories_llm, PROMPTS) == expected
    assert greedy_ids(other, PROMPTS) == quantized
    assert quantized != expected  # two different models: NF4 weights change some tokens


def test_memory_is_returned_after_del_and_gc():
    model = os.path.join(SOURCE_DIR, "models", "smollm2-135m-dummy")
    gc.collect()
    before = resident_bytes()
    llm = LLM(model=model, load_format="dummy", dtype="bfloat16", max_model_len=256, num_kv_blocks=64)
    llm.generate({"prompt_token_ids": [1, 2, 3, 4]}, SamplingParams(max_tokens=4), use_tqdm=False)
    loaded = resident_bytes()
    assert loaded - before > 200 * 2**20  # 135M bfloat16 weights
    del llm
    gc.collect()
    after = resident_bytes()
    assert after - before < 0.1 * (loaded - before), (before, loaded, after)


def test_generate_from_two_threads_is_serialized_without_deadlock(stories_llm):
    expected = {p: greedy_ids(stories_llm, [p] * 3) for p in PROMPTS[:2]}
    results, errors = {}, []

    def worker(prompt):
        try:
            for _ in range(3):
                results.setdefault(prompt, []).append(greedy_ids(stories_llm, [prompt] * 3))
        except Exception as e:  # reported below; a thread cannot fail the test itself
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(p,)) for p in PROMPTS[:2]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "generate deadlocked"
    assert errors == []
    for p in PROMPTS[:2]:
        assert results[p] == [expected[p]] * 3


def test_ctrl_c_raises_keyboard_interrupt_and_leaves_the_engine_reusable(stories_llm):
    expected = greedy_ids(stories_llm, PROMPTS)
    long_params = [SamplingParams(temperature=0, max_tokens=1)] + [
        SamplingParams(temperature=0, max_tokens=400, ignore_eos=True)] * 63

    class InterruptingBar:
        # The first finished prompt sends SIGINT from another thread while the engine runs without the GIL.
        n = 0

        def update(self, count):
            self.n += count
            if self.n == count:
                threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()

        def close(self):
            pass

    import pagedllm.llm
    original = pagedllm.llm.progress_bar
    pagedllm.llm.progress_bar = lambda total, desc: InterruptingBar()
    try:
        with pytest.raises(KeyboardInterrupt):
            stories_llm.generate(["Once upon a time"] * 64, long_params, use_tqdm=True)
    finally:
        pagedllm.llm.progress_bar = original
    stats = stories_llm._engine.stats()
    assert stats["num_requests_running"] == 0 and stats["num_requests_waiting"] == 0
    stories_llm._engine.reset_prefix_cache()
    assert stories_llm._engine.num_free_kv_blocks == stories_llm._engine.num_kv_blocks
    assert greedy_ids(stories_llm, PROMPTS) == expected
