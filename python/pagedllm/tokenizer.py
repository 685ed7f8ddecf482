"""The model's tokenizer with Hugging Face's method names (what ``LLM.get_tokenizer()`` returns)."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Union

from . import _pagedllm

Conversation = List[Dict[str, Any]]


def load_chat_template(chat_template: str) -> str:
    """A chat template given as a file path or as the template text itself (as ``--chat-template``)."""
    if not isinstance(chat_template, str):
        raise ValueError(f"chat_template must be a string (a file or the template text), got {type(chat_template)}")
    if os.path.isfile(chat_template):
        with open(chat_template, encoding="utf-8") as f:
            return f.read()
    if "{" in chat_template or "\n" in chat_template:
        return chat_template
    raise FileNotFoundError(f"chat_template: no such file: {chat_template}")


class Tokenizer:
    """A model folder's tokenizer (tokenizer.json, or tokenizer.model through SentencePiece).

    ``encode``/``decode``/``apply_chat_template`` behave as Hugging Face's (``decode`` keeps special tokens unless
    ``skip_special_tokens=True``); ids match Hugging Face tokenizers exactly.
    """

    def __init__(self, path: str) -> None:
        self._native = _pagedllm.Tokenizer.from_path(os.fspath(path))
        self.name_or_path = os.fspath(path)

    def encode(self, text: str, add_special_tokens: bool = True) -> List[int]:
        """Token ids of ``text``; add_special_tokens adds BOS etc. as the tokenizer's post-processor says."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        return self._native.encode(text, add_special_tokens)

    def __call__(self, text: str, add_special_tokens: bool = True) -> Dict[str, List[int]]:
        ids = self.encode(text, add_special_tokens)
        return {"input_ids": ids, "attention_mask": [1] * len(ids)}

    def decode(self, token_ids: Union[int, List[int]], skip_special_tokens: bool = False) -> str:
        """The text of ``token_ids`` (ids outside the vocabulary are skipped)."""
        if isinstance(token_ids, int):
            token_ids = [token_ids]
        return self._native.decode(list(token_ids), skip_special_tokens)

    def batch_decode(self, sequences: List[List[int]], skip_special_tokens: bool = False) -> List[str]:
        return [self.decode(ids, skip_special_tokens) for ids in sequences]

    def convert_ids_to_tokens(self, ids: Union[int, List[int]]) -> Union[str, List[str]]:
        if isinstance(ids, int):
            return self._native.id_to_token(ids)
        return [self._native.id_to_token(i) for i in ids]

    def convert_tokens_to_ids(self, tokens: Union[str, List[str]]) -> Union[Optional[int], List[Optional[int]]]:
        if isinstance(tokens, str):
            return self._native.token_to_id(tokens)
        return [self._native.token_to_id(t) for t in tokens]

    @property
    def vocab_size(self) -> int:
        return self._native.vocab_size

    def __len__(self) -> int:
        return self._native.vocab_size

    @property
    def bos_token(self) -> str:
        return self._native.bos_token

    @property
    def eos_token(self) -> str:
        return self._native.eos_token

    @property
    def bos_token_id(self) -> Optional[int]:
        return self._native.bos_token_id

    @property
    def eos_token_id(self) -> Optional[int]:
        return self._native.eos_token_id

    @property
    def chat_template(self) -> Optional[str]:
        return self._native.chat_template

    def apply_chat_template(
        self,
        conversation: Conversation,
        chat_template: Optional[str] = None,
        add_generation_prompt: bool = False,
        tokenize: bool = True,
        tools: Optional[List[Dict[str, Any]]] = None,
        **kwargs: Any,
    ) -> Union[str, List[int]]:
        """Renders ``conversation`` with the chat template (the tokenizer's, or ``chat_template``: a file or the
        text) exactly as transformers does; returns the ids (the template writes BOS itself, so no special tokens
        are added) or, with ``tokenize=False``, the text. Further keyword arguments become template variables."""
        text = self.render_chat(conversation, chat_template, add_generation_prompt, tools, kwargs)
        return self.encode(text, add_special_tokens=False) if tokenize else text

    def render_chat(self, conversation: Conversation, chat_template: Optional[str], add_generation_prompt: bool,
                    tools: Optional[List[Dict[str, Any]]] = None,
                    variables: Optional[Dict[str, Any]] = None) -> str:
        if not isinstance(conversation, list) or not all(isinstance(m, dict) for m in conversation):
            raise ValueError("messages must be a list of {'role': ..., 'content': ...} dicts")
        source = load_chat_template(chat_template) if chat_template is not None else self.chat_template
        if source is None:
            raise ValueError("As of transformers v4.44, default chat template is no longer allowed, so you must "
                             "provide a chat template if the tokenizer does not define one.")
        try:
            messages_json = json.dumps(conversation)
            tools_json = json.dumps(tools) if tools is not None else ""
            extra_json = json.dumps(variables) if variables else ""
        except TypeError as e:
            raise ValueError(f"messages, tools and template variables must be JSON values: {e}") from None
        return _pagedllm.render_chat_template(source, messages_json, tools_json, add_generation_prompt,
                                              self.bos_token, self.eos_token, extra_json)

    def __repr__(self) -> str:
        return f"Tokenizer({self.name_or_path!r}, vocab_size={self.vocab_size})"
