"""SamplingParams: how one request's tokens are chosen and when it stops, with vLLM's fields, defaults and
validation messages (``ValueError`` naming the field)."""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Union

from . import _pagedllm
from .structured_outputs import GuidedDecodingParams, StructuredOutputsParams

_SAMPLING_EPS = 1e-5


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class SamplingParams:
    """Sampling parameters for text generation (vLLM's ``SamplingParams``).

    Args:
        n: number of output sequences returned for the prompt (they share the prompt's KV cache blocks).
        presence_penalty: in [-2, 2]; penalizes tokens that already appear in the output.
        frequency_penalty: in [-2, 2]; penalizes tokens by how often they appear in the output.
        repetition_penalty: > 0; above 1 discourages tokens of the prompt and the output.
        temperature: >= 0; 0 means greedy.
        top_p: in (0, 1]; cumulative probability of the top tokens kept.
        top_k: -1 or 0 for all tokens, else the number of top tokens kept.
        min_p: in [0, 1]; minimum probability relative to the most likely token.
        seed: seed of this request's random generator (outputs then depend only on it).
        stop: string(s) that stop generation; not included in the output unless include_stop_str_in_output.
        stop_token_ids: token ids that stop generation.
        ignore_eos: keep generating after the EOS token.
        max_tokens: maximum number of generated tokens per output sequence.
        min_tokens: stop tokens and EOS are suppressed until this many tokens are generated.
        logprobs: number of top log-probabilities returned per generated token (plus the sampled token's).
        skip_special_tokens: leave special tokens out of the text.
        spaces_between_special_tokens: kept for vLLM compatibility.
        include_stop_str_in_output: keep the stop string in the text.
        logit_bias: {token id: bias in [-100, 100]} added to the logits.
        structured_outputs: a ``StructuredOutputsParams`` (JSON Schema, JSON object, regex, choice or grammar) the
            output must follow; ``guided_decoding`` is vLLM's older name for it.

    ``best_of`` (other than ``n``), ``prompt_logprobs``, ``bad_words``, ``allowed_token_ids``,
    ``logits_processors``, ``truncate_prompt_tokens`` and ``detokenize=False`` raise ``NotImplementedError``.
    """

    def __init__(
        self,
        n: int = 1,
        best_of: Optional[int] = None,
        presence_penalty: float = 0.0,
        frequency_penalty: float = 0.0,
        repetition_penalty: float = 1.0,
        temperature: float = 1.0,
        top_p: float = 1.0,
        top_k: int = -1,
        min_p: float = 0.0,
        seed: Optional[int] = None,
        stop: Optional[Union[str, List[str]]] = None,
        stop_token_ids: Optional[List[int]] = None,
        bad_words: Optional[List[str]] = None,
        ignore_eos: bool = False,
        max_tokens: Optional[int] = 16,
        min_tokens: int = 0,
        logprobs: Optional[int] = None,
        prompt_logprobs: Optional[int] = None,
        detokenize: bool = True,
        skip_special_tokens: bool = True,
        spaces_between_special_tokens: bool = True,
        logits_processors=None,
        include_stop_str_in_output: bool = False,
        truncate_prompt_tokens: Optional[int] = None,
        logit_bias: Optional[Dict[int, float]] = None,
        allowed_token_ids: Optional[List[int]] = None,
        structured_outputs: Optional[StructuredOutputsParams] = None,
        guided_decoding: Optional[GuidedDecodingParams] = None,
    ) -> None:
        self.n = n
        self.best_of = best_of
        self.presence_penalty = presence_penalty
        self.frequency_penalty = frequency_penalty
        self.repetition_penalty = repetition_penalty
        self.temperature = temperature
        self.top_p = top_p
        self.top_k = top_k
        self.min_p = min_p
        self.seed = seed
        if stop is None:
            self.stop = []
        elif isinstance(stop, str):
            self.stop = [stop]
        else:
            self.stop = list(stop)
        self.stop_token_ids = [] if stop_token_ids is None else list(stop_token_ids)
        self.bad_words = bad_words
        self.ignore_eos = ignore_eos
        self.max_tokens = max_tokens
        self.min_tokens = min_tokens
        self.logprobs = logprobs
        self.prompt_logprobs = prompt_logprobs
        self.detokenize = detokenize
        self.skip_special_tokens = skip_special_tokens
        self.spaces_between_special_tokens = spaces_between_special_tokens
        self.logits_processors = logits_processors
        self.include_stop_str_in_output = include_stop_str_in_output
        self.truncate_prompt_tokens = truncate_prompt_tokens
        self.logit_bias = dict(logit_bias) if logit_bias else None
        self.allowed_token_ids = allowed_token_ids
        if structured_outputs is not None and guided_decoding is not None:
            raise ValueError("give structured_outputs or guided_decoding (its older name), not both")
        self.structured_outputs = structured_outputs if structured_outputs is not None else guided_decoding
        self._verify_args()
        if self.temperature < _SAMPLING_EPS:
            # Greedy: the filters have no effect, as in vLLM.
            self.top_p = 1.0
            self.top_k = -1
            self.min_p = 0.0

    def _verify_args(self) -> None:
        if not _is_int(self.n):
            raise ValueError(f"n must be an int, but is of type {type(self.n)}")
        if self.n < 1:
            raise ValueError(f"n must be at least 1, got {self.n}.")
        if self.n > 128:
            raise ValueError(f"n must be at most 128, got {self.n}.")
        if self.best_of is not None:
            if not _is_int(self.best_of):
                raise ValueError(f"best_of must be an integer, got {type(self.best_of)}")
            if self.best_of < self.n:
                raise ValueError(f"best_of must be greater than or equal to n, got n={self.n} and "
                                 f"best_of={self.best_of}.")
            if self.best_of != self.n:
                raise NotImplementedError("best_of other than n is not supported by pagedllm")
        self._verify_number("presence_penalty", self.presence_penalty)
        if not -2.0 <= self.presence_penalty <= 2.0:
            raise ValueError(f"presence_penalty must be in [-2, 2], got {self.presence_penalty}.")
        self._verify_number("frequency_penalty", self.frequency_penalty)
        if not -2.0 <= self.frequency_penalty <= 2.0:
            raise ValueError(f"frequency_penalty must be in [-2, 2], got {self.frequency_penalty}.")
        self._verify_number("repetition_penalty", self.repetition_penalty)
        if self.repetition_penalty <= 0.0:
            raise ValueError(f"repetition_penalty must be greater than zero, got {self.repetition_penalty}.")
        self._verify_number("temperature", self.temperature)
        if self.temperature < 0.0:
            raise ValueError(f"temperature must be non-negative, got {self.temperature}.")
        self._verify_number("top_p", self.top_p)
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}.")
        if not _is_int(self.top_k):
            raise TypeError(f"top_k must be an integer, got {type(self.top_k).__name__}")
        if self.top_k < -1:
            raise ValueError(f"top_k must be -1 (disable), or at least 1, got {self.top_k}.")
        self._verify_number("min_p", self.min_p)
        if not 0.0 <= self.min_p <= 1.0:
            raise ValueError(f"min_p must be in [0, 1], got {self.min_p}.")
        if self.seed is not None and (not _is_int(self.seed) or not 0 <= self.seed < 2**64):
            raise ValueError(f"seed must be an integer in [0, 2**64), got {self.seed!r}.")
        if self.max_tokens is not None:
            if not _is_int(self.max_tokens):
                raise ValueError(f"max_tokens must be an integer, got {type(self.max_tokens)}")
            if self.max_tokens < 1:
                raise ValueError(f"max_tokens must be at least 1, got {self.max_tokens}.")
        if not _is_int(self.min_tokens):
            raise ValueError(f"min_tokens must be an integer, got {type(self.min_tokens)}")
        if self.min_tokens < 0:
            raise ValueError(f"min_tokens must be greater than or equal to 0, got {self.min_tokens}.")
        if self.max_tokens is not None and self.min_tokens > self.max_tokens:
            raise ValueError(f"min_tokens must be less than or equal to max_tokens={self.max_tokens}, "
                             f"got {self.min_tokens}.")
        if self.logprobs is not None:
            if not _is_int(self.logprobs):
                raise ValueError(f"logprobs must be an integer, got {type(self.logprobs)}")
            if self.logprobs < 0:
                raise ValueError(f"logprobs must be non-negative, got {self.logprobs}.")
            if self.logprobs > 20:
                raise ValueError(f"logprobs must be at most 20, got {self.logprobs}.")
        if self.prompt_logprobs is not None:
            if not _is_int(self.prompt_logprobs) or self.prompt_logprobs < 0:
                raise ValueError(f"prompt_logprobs must be non-negative, got {self.prompt_logprobs}.")
            raise NotImplementedError("prompt_logprobs is not supported by pagedllm")
        if self.truncate_prompt_tokens is not None:
            if not _is_int(self.truncate_prompt_tokens) or self.truncate_prompt_tokens < 1:
                raise ValueError(f"truncate_prompt_tokens must be >= 1, got {self.truncate_prompt_tokens}")
            raise NotImplementedError("truncate_prompt_tokens is not supported by pagedllm")
        if not all(_is_int(t) and 0 <= t < 2**31 for t in self.stop_token_ids):
            raise ValueError(f"stop_token_ids must contain only integers, got {self.stop_token_ids}.")
        if not all(isinstance(s, str) for s in self.stop):
            raise ValueError(f"stop must be a string or a list of strings, got {self.stop!r}.")
        if any(not s for s in self.stop):
            raise ValueError("stop cannot contain an empty string.")
        if not self.detokenize:
            if self.stop:
                raise ValueError("stop strings are only supported when detokenize is True. "
                                 "Set detokenize=True to use stop.")
            raise NotImplementedError("detokenize=False is not supported by pagedllm")
        if self.logit_bias is not None:
            for token, bias in self.logit_bias.items():
                if not _is_int(token) or not 0 <= token < 2**31:
                    raise ValueError(f"logit_bias keys must be token ids (integers), got {token!r}.")
                if not _is_number(bias) or not -100.0 <= bias <= 100.0:
                    raise ValueError(f"logit_bias values must be in [-100, 100], got {bias!r} for token {token}.")
        if self.structured_outputs is not None and not isinstance(self.structured_outputs, StructuredOutputsParams):
            raise ValueError("structured_outputs must be a StructuredOutputsParams, got "
                             f"{type(self.structured_outputs).__name__}.")
        for name in ("bad_words", "allowed_token_ids", "logits_processors"):
            if getattr(self, name):
                raise NotImplementedError(f"{name} is not supported by pagedllm")

    @staticmethod
    def _verify_number(name: str, value) -> None:
        if not _is_number(value) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}.")

    @property
    def sampling_type(self) -> str:
        """"greedy", "random_seed" or "random" (vLLM's SamplingType names, lower case)."""
        if self.temperature < _SAMPLING_EPS:
            return "greedy"
        return "random_seed" if self.seed is not None else "random"

    def clone(self) -> "SamplingParams":
        """A copy of these parameters."""
        copy = SamplingParams.__new__(SamplingParams)
        copy.__dict__.update({k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items()})
        return copy

    def _to_native(self, max_tokens_default: int) -> "_pagedllm.SamplingParams":
        """The engine's struct; ``max_tokens=None`` means up to the model's context length."""
        p = _pagedllm.SamplingParams()
        p.n = self.n
        p.presence_penalty = self.presence_penalty
        p.frequency_penalty = self.frequency_penalty
        p.repetition_penalty = self.repetition_penalty
        p.temperature = self.temperature
        p.top_p = self.top_p
        p.top_k = self.top_k
        p.min_p = self.min_p
        p.seed = self.seed
        p.stop = self.stop
        p.stop_token_ids = self.stop_token_ids
        p.ignore_eos = self.ignore_eos
        p.max_tokens = self.max_tokens if self.max_tokens is not None else max_tokens_default
        p.min_tokens = self.min_tokens
        p.logprobs = self.logprobs
        p.skip_special_tokens = self.skip_special_tokens
        p.spaces_between_special_tokens = self.spaces_between_special_tokens
        p.include_stop_str_in_output = self.include_stop_str_in_output
        p.logit_bias = self.logit_bias or {}
        if self.structured_outputs is not None:
            p.structured_outputs = self.structured_outputs._to_native()
        return p

    def __repr__(self) -> str:
        return (f"SamplingParams(n={self.n}, presence_penalty={self.presence_penalty}, "
                f"frequency_penalty={self.frequency_penalty}, repetition_penalty={self.repetition_penalty}, "
                f"temperature={self.temperature}, top_p={self.top_p}, top_k={self.top_k}, min_p={self.min_p}, "
                f"seed={self.seed}, stop={self.stop}, stop_token_ids={self.stop_token_ids}, "
                f"include_stop_str_in_output={self.include_stop_str_in_output}, ignore_eos={self.ignore_eos}, "
                f"max_tokens={self.max_tokens}, min_tokens={self.min_tokens}, logprobs={self.logprobs}, "
                f"skip_special_tokens={self.skip_special_tokens}, logit_bias={self.logit_bias})")

    def __eq__(self, other) -> bool:
        return isinstance(other, SamplingParams) and self.__dict__ == other.__dict__
