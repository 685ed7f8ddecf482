"""Constrained decoding in the offline API: vLLM's ``StructuredOutputsParams`` (and its older name,
``GuidedDecodingParams``), passed as ``SamplingParams(structured_outputs=...)`` (or ``guided_decoding=...``).

    from pagedllm import LLM, SamplingParams
    from pagedllm.sampling_params import StructuredOutputsParams
    params = SamplingParams(structured_outputs=StructuredOutputsParams(choice=["yes", "no"]))

Exactly one of ``json`` (a JSON Schema as a dict or JSON text; its property order is kept), ``json_object``,
``regex``, ``choice`` or ``grammar`` (GBNF) is set. The engine compiles it (the same compiler as the server's
``response_format`` and ``guided_*`` fields); a schema keyword it cannot enforce raises ``ValueError`` naming it.
JSON is compact unless ``disable_any_whitespace=False``.
"""

from __future__ import annotations

import json as _json
from typing import Any, List, Optional, Union

from . import _pagedllm


class StructuredOutputsParams:
    """What the output must look like: exactly one of json, json_object, regex, choice, grammar."""

    def __init__(
        self,
        json: Optional[Union[str, dict]] = None,
        regex: Optional[str] = None,
        choice: Optional[List[str]] = None,
        grammar: Optional[str] = None,
        json_object: Optional[bool] = None,
        disable_any_whitespace: bool = True,
        disable_fallback: bool = False,
        disable_additional_properties: bool = False,
        whitespace_pattern: Optional[str] = None,
        backend: Optional[str] = None,
    ) -> None:
        self.json = json
        self.regex = regex
        self.choice = choice
        self.grammar = grammar
        self.json_object = json_object
        self.disable_any_whitespace = disable_any_whitespace
        self.disable_fallback = disable_fallback
        self.disable_additional_properties = disable_additional_properties
        self.whitespace_pattern = whitespace_pattern
        self.backend = backend
        self._verify()

    def _verify(self) -> None:
        kinds = [name for name in ("json", "regex", "choice", "grammar", "json_object")
                 if getattr(self, name) not in (None, False)]
        if len(kinds) != 1:
            raise ValueError("You must use one kind of structured outputs constraint "
                             f"(json, regex, choice, grammar or json_object), but got {kinds or 'none'}.")
        if self.json is not None and not isinstance(self.json, (str, dict)):
            raise ValueError(f"json must be a JSON Schema as a dict or a str, got {type(self.json).__name__}.")
        if self.regex is not None and not isinstance(self.regex, str):
            raise ValueError(f"regex must be a str, got {type(self.regex).__name__}.")
        if self.grammar is not None and not isinstance(self.grammar, str):
            raise ValueError(f"grammar must be a str, got {type(self.grammar).__name__}.")
        if self.choice is not None:
            if not isinstance(self.choice, (list, tuple)) or not self.choice or \
                    not all(isinstance(c, str) for c in self.choice):
                raise ValueError(f"choice must be a non-empty list of strings, got {self.choice!r}.")
        for name in ("whitespace_pattern", "backend"):
            if getattr(self, name) is not None:
                raise NotImplementedError(f"structured outputs {name} is not supported by pagedllm")
        if self.disable_additional_properties:
            raise NotImplementedError("structured outputs disable_additional_properties is not supported by pagedllm "
                                      "(write additionalProperties: false in the schema)")

    def _to_native(self) -> Any:
        p = _pagedllm.StructuredOutputsParams()
        if self.json is not None:
            # Dicts keep insertion order, so the schema's properties are generated in the order written.
            p.json = self.json if isinstance(self.json, str) else _json.dumps(self.json)
        p.json_object = bool(self.json_object)
        p.regex = self.regex
        p.choice = list(self.choice or [])
        p.grammar = self.grammar
        p.any_whitespace = not self.disable_any_whitespace
        return p

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items() if v not in (None, False))
        return f"StructuredOutputsParams({fields})"

    def __eq__(self, other) -> bool:
        return isinstance(other, StructuredOutputsParams) and self.__dict__ == other.__dict__


# vLLM's name before v0.10.2.
GuidedDecodingParams = StructuredOutputsParams
