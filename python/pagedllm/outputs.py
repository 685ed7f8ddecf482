"""What ``LLM.generate`` and ``LLM.chat`` return, shaped like vLLM's ``RequestOutput`` / ``CompletionOutput``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Union


@dataclass
class Logprob:
    """The log-probability of one token, its rank (1 = most likely) and its text alone."""

    logprob: float
    rank: Optional[int] = None
    decoded_token: Optional[str] = None


SampleLogprobs = List[Dict[int, Logprob]]


@dataclass
class CompletionOutput:
    """One generated sequence of a request.

    Attributes:
        index: which of the request's ``n`` samples this is.
        text: the generated text (without the prompt).
        token_ids: the generated token ids.
        cumulative_logprob: sum of the sampled tokens' log-probabilities (None unless logprobs were requested).
        logprobs: per generated token, {token id: Logprob} for the sampled token and the top ``logprobs``.
        finish_reason: "stop", "length" or "abort".
        stop_reason: the stop string or stop token id that ended it (None for EOS or length).
    """

    index: int
    text: str
    token_ids: List[int]
    cumulative_logprob: Optional[float]
    logprobs: Optional[SampleLogprobs]
    finish_reason: Optional[str] = None
    stop_reason: Union[int, str, None] = None

    def finished(self) -> bool:
        return self.finish_reason is not None


@dataclass
class RequestOutput:
    """The result of one prompt: the prompt as text and ids, and its ``n`` ``CompletionOutput`` s."""

    request_id: str
    prompt: Optional[str]
    prompt_token_ids: List[int]
    outputs: List[CompletionOutput]
    finished: bool
    prompt_logprobs: None = None
    lora_request: Optional[object] = field(default=None, repr=False)


def _completion_from_tuple(t) -> CompletionOutput:
    index, text, token_ids, cumulative, logprobs, finish_reason, stop_reason = t
    if logprobs is not None:
        logprobs = [{token: Logprob(*entry) for token, entry in step.items()} for step in logprobs]
    return CompletionOutput(index, text, token_ids, cumulative, logprobs, finish_reason, stop_reason)


def _request_from_tuple(t, prompt: Optional[str], lora_request) -> RequestOutput:
    """The native engine's tuple as a RequestOutput; ``prompt`` is None for a prompt given as token ids."""
    request_id, _, prompt_token_ids, outputs, finished = t
    return RequestOutput(request_id, prompt, prompt_token_ids, [_completion_from_tuple(c) for c in outputs], finished,
                         lora_request=lora_request)
