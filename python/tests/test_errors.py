"""Every bad argument raises the right exception with a message naming it, and never crashes the process."""

import pytest

from conftest import STORIES
from pagedllm import LLM, SamplingParams


@pytest.mark.parametrize("kwargs, exc, message", [
    ({"n": 0}, ValueError, "n must be at least 1, got 0."),
    ({"n": 1.5}, ValueError, "n must be an int"),
    ({"best_of": 1, "n": 2}, ValueError, "best_of must be greater than or equal to n"),
    ({"presence_penalty": 3}, ValueError, "presence_penalty must be in [-2, 2], got 3."),
    ({"frequency_penalty": -2.5}, ValueError, "frequency_penalty must be in [-2, 2], got -2.5."),
    ({"repetition_penalty": 0}, ValueError, "repetition_penalty must be greater than zero, got 0."),
    ({"temperature": -1}, ValueError, "temperature must be non-negative, got -1."),
    ({"temperature": float("nan")}, ValueError, "temperature must be a finite number"),
    ({"top_p": 0}, ValueError, "top_p must be in (0, 1], got 0."),
    ({"top_k": -2}, ValueError, "top_k must be -1 (disable), or at least 1, got -2."),
    ({"top_k": 2.5}, TypeError, "top_k must be an integer, got float"),
    ({"min_p": 1.5}, ValueError, "min_p must be in [0, 1], got 1.5."),
    ({"max_tokens": 0}, ValueError, "max_tokens must be at least 1, got 0."),
    ({"min_tokens": -1}, ValueError, "min_tokens must be greater than or equal to 0, got -1."),
    ({"min_tokens": 5, "max_tokens": 4}, ValueError, "min_tokens must be less than or equal to max_tokens=4, got 5."),
    ({"logprobs": -1}, ValueError, "logprobs must be non-negative, got -1."),
    ({"stop": ["a", ""]}, ValueError, "stop cannot contain an empty string."),
    ({"stop_token_ids": [1, "2"]}, ValueError, "stop_token_ids must contain only integers"),
    ({"seed": -1}, ValueError, "seed must be an integer"),
    ({"logit_bias": {5: 200}}, ValueError, "logit_bias values must be in [-100, 100]"),
    ({"prompt_logprobs": 1}, NotImplementedError, "prompt_logprobs"),
    ({"bad_words": ["x"]}, NotImplementedError, "bad_words"),
])
def test_sampling_params_validation(kwargs, exc, message):
    with pytest.raises(exc) as info:
        SamplingParams(**kwargs)
    assert message in str(info.value)


def test_sampling_params_unknown_field_is_a_type_error():
    with pytest.raises(TypeError, match="max_new_tokens"):
        SamplingParams(max_new_tokens=3)


def test_greedy_sampling_params_reset_the_filters_as_vllm():
    p = SamplingParams(temperature=0, top_p=0.5, top_k=3, min_p=0.2)
    assert (p.top_p, p.top_k, p.min_p) == (1.0, -1, 0.0)
    assert p.sampling_type == "greedy"
    assert SamplingParams(stop="x").stop == ["x"]


def test_missing_model_folder_raises_file_not_found_naming_it():
    with pytest.raises(FileNotFoundError, match="/no/such/model"):
        LLM(model="/no/such/model")


def test_model_folder_without_weights_raises_naming_the_file(tmp_path):
    (tmp_path / "config.json").write_text(open(f"{STORIES}/config.json").read())
    (tmp_path / "tokenizer.json").write_text(open(f"{STORIES}/tokenizer.json").read())
    with pytest.raises(OSError, match=str(tmp_path)):
        LLM(model=str(tmp_path))


@pytest.mark.parametrize("kwargs, exc, message", [
    ({"dtype": "float8"}, ValueError, "dtype must be one of"),
    ({"quantization": "gptq"}, ValueError, "quantization must be None or one of"),
    ({"load_format": "pt"}, ValueError, "load_format must be one of"),
    ({"kv_cache_dtype": "fp16"}, ValueError, "kv_cache_dtype must be one of auto, float32, bfloat16, fp8"),
    ({"block_size": 0}, ValueError, "block_size must be at least 1"),
    ({"max_num_seqs": 0}, ValueError, "max_num_seqs must be at least 1"),
    ({"max_model_len": "long"}, TypeError, "max_model_len must be an integer"),
    ({"seed": -3}, ValueError, "seed must be at least 0"),
    ({"enable_prefix_caching": "yes"}, TypeError, "enable_prefix_caching must be True or False"),
    ({"tensor_parallel_size": 2}, ValueError, "tensor_parallel_size"),
    ({"gpu_memory_utilization": 0.9}, ValueError, "gpu_memory_utilization"),
    ({"tokenizer": "/no/such/tokenizer"}, FileNotFoundError, "/no/such/tokenizer"),
    ({"block_size": 4096}, ValueError, "--block-size must be in [1, 1024]"),
    ({"enable_chunked_prefill": False, "max_num_batched_tokens": 16}, ValueError, "--max-num-batched-tokens"),
])
def test_llm_argument_validation(kwargs, exc, message):
    with pytest.raises(exc) as info:
        LLM(model=STORIES, **kwargs)
    assert message in str(info.value)


def test_generate_rejects_bad_prompts_and_stays_usable(stories_llm):
    greedy = SamplingParams(temperature=0, max_tokens=4)
    with pytest.raises(TypeError, match=r"prompts\[1\] must be a string or a dict"):
        stories_llm.generate(["Once", 3], greedy, use_tqdm=False)
    with pytest.raises(ValueError, match=r"prompts\[0\] must have a string 'prompt'"):
        stories_llm.generate({"text": "Once"}, greedy, use_tqdm=False)
    with pytest.raises(ValueError, match="prompt_token_ids'\\] must be a list of integers"):
        stories_llm.generate({"prompt_token_ids": [1, "a"]}, greedy, use_tqdm=False)
    with pytest.raises(ValueError, match="prompt token id 9999 is outside the vocabulary"):
        stories_llm.generate([{"prompt_token_ids": [1, 9999]}], greedy, use_tqdm=False)
    with pytest.raises(ValueError, match="maximum context length is 512 tokens"):
        stories_llm.generate("Once", SamplingParams(max_tokens=600), use_tqdm=False)
    with pytest.raises(ValueError, match="The lengths of prompts and sampling_params must be the same"):
        stories_llm.generate(["a", "b"], [greedy], use_tqdm=False)
    with pytest.raises(TypeError, match="sampling_params\\[0\\] must be a SamplingParams"):
        stories_llm.generate("a", {"temperature": 0}, use_tqdm=False)
    with pytest.raises(ValueError, match=r"prompts\[0\]\['prompt_token_ids'\] is empty"):
        stories_llm.generate({"prompt_token_ids": []}, greedy, use_tqdm=False)
    # A batch with one bad prompt is rejected whole; nothing of it stays queued.
    with pytest.raises(ValueError):
        stories_llm.generate(["Once upon a time", {"prompt_token_ids": [1, 9999]}], greedy, use_tqdm=False)
    (out,) = stories_llm.generate("Once upon a time", greedy, use_tqdm=False)
    assert out.outputs[0].token_ids == [432, 383, 286, 261]  # the golden's first four tokens
    assert out.request_id.isdigit()


def test_generate_after_shutdown_raises():
    llm = LLM(model=STORIES)
    llm.shutdown()
    with pytest.raises(ValueError, match="shut down"):
        llm.generate("Once", use_tqdm=False)
