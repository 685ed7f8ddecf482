"""LLM: offline batched generation over one model, with vLLM's constructor arguments and methods.

    from pagedllm import LLM, SamplingParams
    llm = LLM(model="models/stories260K")
    outputs = llm.generate(["Hello, my name is"], SamplingParams(temperature=0, max_tokens=32))
"""

from __future__ import annotations

import os
import threading
from typing import Any, Dict, List, Optional, Sequence, Union

from . import _pagedllm
from .lora import LoRARequest
from .outputs import RequestOutput, _request_from_tuple
from .progress import progress_bar
from .sampling_params import SamplingParams
from .tokenizer import Conversation, Tokenizer

PromptType = Union[str, Dict[str, Any]]

_DTYPES = ("auto", "float32", "bfloat16", "float16", "half", "float", "bf16", "fp16", "fp32")
_QUANTIZATIONS = ("nf4", "fp4", "int4", "int8", "q8_0")
_LOAD_FORMATS = ("auto", "safetensors", "dummy")
_KV_CACHE_DTYPES = ("auto", "float32", "bfloat16", "fp8", "fp8_e4m3", "fp8_e5m2")


def _check_int(name: str, value, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")


def _check_bool(name: str, value) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")


class LLM:
    """An engine over one Hugging Face model folder, for offline batched generation (vLLM's ``LLM``).

    Every prompt of a ``generate`` call is scheduled at once and batched continuously over a paged KV cache;
    results come back in the order of the prompts. The engine's threads run with the GIL released, and Ctrl-C
    during ``generate`` raises ``KeyboardInterrupt`` with the batch aborted and the engine ready for the next call.
    Calls from several Python threads are serialized (each ``generate`` runs its batch alone).

    Args:
        model: a Hugging Face model folder (config.json, *.safetensors, tokenizer files).
        tokenizer: a tokenizer folder or tokenizer.json (default: ``model``).
        dtype: storage of dense weights: "auto", "float32", "bfloat16" or "float16".
        quantization: quantize linear layers while loading: None, "nf4", "fp4", "int4", "int8" or "q8_0".
        seed: seeds requests without their own ``SamplingParams.seed`` (and dummy weights).
        max_model_len: maximum prompt + output tokens per request (default: the model's).
        max_num_seqs: maximum requests running in one step.
        max_num_batched_tokens: token budget per step.
        block_size: tokens per KV cache block.
        enable_prefix_caching: reuse the KV blocks of shared prompt prefixes.
        enable_chunked_prefill: split long prompts across steps (default on).
        load_format: "auto" (safetensors) or "dummy" (random weights of the config's shape).
        enable_lora, max_loras, max_lora_rank: serve LoRA adapters given per request as ``LoRARequest``.
        kv_cache_dtype: element type of the KV cache (vLLM's): "auto" (bfloat16 for 16-bit and quantized weights,
            float32 for fp32 ones), "float32", "bfloat16", "fp8" (= "fp8_e4m3") or "fp8_e5m2".
        kv_cache_memory: bytes of KV cache (default: a quarter of the available memory).
        num_kv_blocks: exact number of KV blocks (overrides kv_cache_memory).
        num_threads: compute threads (default: all cores).
        double_quant, quant_block_size, quantize_lm_head: details of the 4-bit formats (see ``pagedllm --help``).
        max_queued_requests: refuse requests beyond this many waiting (0: no limit).

    Other vLLM arguments that make no sense on CPU (``tensor_parallel_size``, ``gpu_memory_utilization``, ...)
    are accepted when left at their neutral value and otherwise raise ``ValueError`` naming them.
    """

    def __init__(
        self,
        model: str,
        tokenizer: Optional[str] = None,
        dtype: str = "auto",
        quantization: Optional[str] = None,
        seed: int = 0,
        max_model_len: Optional[int] = None,
        max_num_seqs: Optional[int] = None,
        max_num_batched_tokens: Optional[int] = None,
        block_size: int = 16,
        enable_prefix_caching: Optional[bool] = None,
        enable_chunked_prefill: Optional[bool] = None,
        load_format: str = "auto",
        enable_lora: bool = False,
        max_loras: int = 4,
        max_lora_rank: int = 64,
        kv_cache_dtype: str = "auto",
        kv_cache_memory: Optional[int] = None,
        num_kv_blocks: Optional[int] = None,
        num_threads: Optional[int] = None,
        double_quant: bool = True,
        quant_block_size: int = 64,
        quantize_lm_head: bool = False,
        max_queued_requests: int = 0,
        tensor_parallel_size: int = 1,
        trust_remote_code: bool = False,
        **kwargs: Any,
    ) -> None:
        for name, value in kwargs.items():
            if value not in (None, False):
                raise ValueError(f"LLM() got an argument pagedllm does not support: {name}={value!r}")
        if tensor_parallel_size != 1:
            raise ValueError(f"tensor_parallel_size must be 1 in the Python LLM (one process), got {tensor_parallel_size}; "
                             "tensor parallelism runs from the CLI under MPI: mpirun -np N pagedllm serve -tp N ...")
        if not isinstance(model, (str, os.PathLike)) or not os.fspath(model):
            raise ValueError(f"model must name a model folder, got {model!r}")
        model = os.fspath(model)
        if not os.path.isdir(model):
            raise FileNotFoundError(f"model folder not found: {model}")
        if tokenizer is not None and not os.path.exists(os.fspath(tokenizer)):
            raise FileNotFoundError(f"tokenizer not found: {tokenizer}")
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")
        if quantization is not None and quantization not in _QUANTIZATIONS:
            raise ValueError(f"quantization must be None or one of {', '.join(_QUANTIZATIONS)}, got {quantization!r}")
        if kv_cache_dtype not in _KV_CACHE_DTYPES:
            raise ValueError(f"kv_cache_dtype must be one of {', '.join(_KV_CACHE_DTYPES)}, got {kv_cache_dtype!r}")
        if load_format not in _LOAD_FORMATS:
            raise ValueError(f"load_format must be one of {', '.join(_LOAD_FORMATS)}, got {load_format!r}")
        _check_int("seed", seed, 0)
        _check_int("block_size", block_size, 1)
        _check_int("max_loras", max_loras, 1)
        _check_int("max_lora_rank", max_lora_rank, 1)
        _check_int("quant_block_size", quant_block_size, 2)
        _check_int("max_queued_requests", max_queued_requests, 0)
        for name, value in (("max_model_len", max_model_len), ("max_num_seqs", max_num_seqs),
                            ("max_num_batched_tokens", max_num_batched_tokens), ("kv_cache_memory", kv_cache_memory),
                            ("num_kv_blocks", num_kv_blocks), ("num_threads", num_threads)):
            if value is not None:
                _check_int(name, value, 1)
        for name, value in (("enable_lora", enable_lora), ("double_quant", double_quant),
                            ("quantize_lm_head", quantize_lm_head)):
            _check_bool(name, value)
        for name, value in (("enable_prefix_caching", enable_prefix_caching),
                            ("enable_chunked_prefill", enable_chunked_prefill)):
            if value is not None:
                _check_bool(name, value)

        args = _pagedllm.EngineArgs()
        args.model = model
        args.tokenizer = os.fspath(tokenizer) if tokenizer is not None else ""
        args.dtype = {"half": "float16", "fp16": "float16", "float": "float32", "fp32": "float32",
                      "bf16": "bfloat16"}.get(dtype, dtype)
        args.quantization = quantization or ""
        args.double_quant = double_quant
        args.quant_block_size = quant_block_size
        args.quantize_lm_head = quantize_lm_head
        args.load_format = load_format
        args.seed = seed
        args.block_size = block_size
        args.max_model_len = max_model_len or 0
        if max_num_seqs is not None:
            args.max_num_seqs = max_num_seqs
        args.max_num_batched_tokens = max_num_batched_tokens or 0
        if enable_prefix_caching is not None:
            args.enable_prefix_caching = enable_prefix_caching
        if enable_chunked_prefill is not None:
            args.enable_chunked_prefill = enable_chunked_prefill
        args.kv_cache_dtype = kv_cache_dtype
        args.kv_cache_memory = kv_cache_memory or 0
        args.num_kv_blocks = num_kv_blocks or 0
        args.num_threads = num_threads or 0
        args.max_loras = max_loras
        args.max_lora_rank = max_lora_rank
        args.max_queued_requests = max_queued_requests
        self._enable_lora = enable_lora
        self._loras: Dict[int, LoRARequest] = {}
        self._lora_lock = threading.Lock()
        self._tokenizer = Tokenizer(args.tokenizer or model)
        self._engine = _pagedllm.Engine(args)
        self.model = model

    # -- generation -------------------------------------------------------------------------------------------

    def generate(
        self,
        prompts: Union[PromptType, Sequence[PromptType]],
        sampling_params: Optional[Union[SamplingParams, Sequence[SamplingParams]]] = None,
        lora_request: Optional[Union[LoRARequest, Sequence[Optional[LoRARequest]]]] = None,
        use_tqdm: bool = True,
    ) -> List[RequestOutput]:
        """Generates completions for ``prompts``, in their order.

        Args:
            prompts: a string, a ``{"prompt": str}`` or ``{"prompt_token_ids": [...]}`` dict, or a list of them.
            sampling_params: one SamplingParams for every prompt, or one per prompt (default: SamplingParams()).
            lora_request: one LoRARequest for every prompt, or one (or None) per prompt.
            use_tqdm: show a progress bar (tqdm when installed).

        Returns:
            One RequestOutput per prompt.
        """
        if isinstance(prompts, (str, dict)):
            prompts = [prompts]
        if not isinstance(prompts, (list, tuple)):
            raise TypeError(f"prompts must be a string, a dict or a list of them, got {type(prompts).__name__}")
        inputs = [self._prompt_input(p, i) for i, p in enumerate(prompts)]
        return self._run(inputs, sampling_params, lora_request, use_tqdm)

    def chat(
        self,
        messages: Union[Conversation, Sequence[Conversation]],
        sampling_params: Optional[Union[SamplingParams, Sequence[SamplingParams]]] = None,
        use_tqdm: bool = True,
        lora_request: Optional[Union[LoRARequest, Sequence[Optional[LoRARequest]]]] = None,
        chat_template: Optional[str] = None,
        add_generation_prompt: bool = True,
        tools: Optional[List[Dict[str, Any]]] = None,
        chat_template_kwargs: Optional[Dict[str, Any]] = None,
    ) -> List[RequestOutput]:
        """Generates the assistant's reply to one conversation (a list of {"role", "content"} messages) or to
        each of a list of conversations. The template is the tokenizer's or ``chat_template`` (a file or the text);
        it renders exactly as ``pagedllm chat-template`` does, and its text is tokenized without adding special
        tokens (the template writes BOS itself), as the server's /v1/chat/completions does."""
        if not isinstance(messages, (list, tuple)) or not messages:
            raise ValueError("messages must be a non-empty list of messages or of conversations")
        conversations = [messages] if isinstance(messages[0], dict) else list(messages)
        inputs = []
        for conversation in conversations:
            text = self._tokenizer.render_chat(list(conversation), chat_template, add_generation_prompt, tools,
                                               chat_template_kwargs)
            prompt = _pagedllm.PromptInput()
            prompt.text = text
            prompt.add_special_tokens = False
            inputs.append((prompt, text))
        return self._run(inputs, sampling_params, lora_request, use_tqdm)

    def get_tokenizer(self) -> Tokenizer:
        """The model's tokenizer (encode, decode, apply_chat_template)."""
        return self._tokenizer

    def shutdown(self) -> None:
        """Frees the model and its KV cache now; later calls raise ValueError."""
        self._engine.close()

    # -- internals ----------------------------------------------------------------------------------------------

    def _prompt_input(self, prompt: PromptType, index: int):
        native = _pagedllm.PromptInput()
        if isinstance(prompt, str):
            native.text = prompt
            return native, prompt
        if isinstance(prompt, dict):
            if "prompt_token_ids" in prompt:
                ids = prompt["prompt_token_ids"]
                if not isinstance(ids, (list, tuple)) or not all(
                        isinstance(t, int) and not isinstance(t, bool) and -2**31 <= t < 2**31 for t in ids):
                    raise ValueError(f"prompts[{index}]['prompt_token_ids'] must be a list of integers (token ids)")
                if not ids:
                    raise ValueError(f"prompts[{index}]['prompt_token_ids'] is empty")
                native.token_ids = list(ids)
                text = prompt.get("prompt")
                native.text = text if isinstance(text, str) else ""
                return native, text if isinstance(text, str) else None
            if isinstance(prompt.get("prompt"), str):
                native.text = prompt["prompt"]
                return native, prompt["prompt"]
            raise ValueError(f"prompts[{index}] must have a string 'prompt' or a list 'prompt_token_ids'")
        raise TypeError(f"prompts[{index}] must be a string or a dict, got {type(prompt).__name__}")

    def _per_prompt(self, name: str, value, count: int, default) -> list:
        if value is None or not isinstance(value, (list, tuple)):
            return [default if value is None else value] * count
        if len(value) != count:
            raise ValueError(f"The lengths of prompts and {name} must be the same, got {count} prompts and "
                             f"{len(value)} {name}")
        return list(value)

    def _lora_name(self, request: Optional[LoRARequest], index: int) -> str:
        if request is None:
            return ""
        if not isinstance(request, LoRARequest):
            raise TypeError(f"lora_request[{index}] must be a LoRARequest, got {type(request).__name__}")
        if not self._enable_lora:
            raise ValueError(f"LoRA is not enabled: construct LLM(..., enable_lora=True) to use {request.lora_name!r}")
        with self._lora_lock:
            known = self._loras.get(request.lora_int_id)
            if known is None:
                if not os.path.isdir(request.lora_path):
                    raise FileNotFoundError(f"lora_path not found: {request.lora_path}")
                self._engine.add_lora(f"lora-{request.lora_int_id}", request.lora_path)
                self._loras[request.lora_int_id] = request
            elif os.path.abspath(known.lora_path) != os.path.abspath(request.lora_path):
                raise ValueError(f"lora_int_id {request.lora_int_id} is already {known.lora_path}, "
                                 f"not {request.lora_path}")
        return f"lora-{request.lora_int_id}"

    def _run(self, inputs, sampling_params, lora_request, use_tqdm: bool) -> List[RequestOutput]:
        count = len(inputs)
        params = self._per_prompt("sampling_params", sampling_params, count, SamplingParams())
        for i, p in enumerate(params):
            if not isinstance(p, SamplingParams):
                raise TypeError(f"sampling_params[{i}] must be a SamplingParams, got {type(p).__name__}")
        loras = self._per_prompt("lora_request", lora_request, count, None)
        lora_names = [self._lora_name(r, i) for i, r in enumerate(loras)]
        native_params = [p._to_native(self._default_max_tokens(prompt) if p.max_tokens is None else 0)
                         for (prompt, _), p in zip(inputs, params)]
        if count == 0:
            return []
        bar = progress_bar(count, "Processed prompts") if use_tqdm else None
        on_progress = None
        if bar is not None:
            def on_progress(num_finished: int) -> None:
                bar.update(num_finished - bar.n)
        try:
            results = self._engine.generate([prompt for prompt, _ in inputs], native_params, lora_names, on_progress)
        finally:
            if bar is not None:
                bar.close()
        return [_request_from_tuple(r, text, lora) for r, (_, text), lora in zip(results, inputs, loras)]

    def _default_max_tokens(self, prompt) -> int:
        """vLLM's max_tokens=None: the rest of the context after the prompt (at least 1, so that an over-long
        prompt gets the engine's context-length error)."""
        num_prompt = len(prompt.token_ids) if prompt.token_ids else len(
            self._tokenizer.encode(prompt.text, prompt.add_special_tokens))
        return max(self._engine.max_model_len - num_prompt, 1)

    def __repr__(self) -> str:
        return f"LLM(model={self.model!r})"
