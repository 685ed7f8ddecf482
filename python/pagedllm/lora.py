"""LoRARequest: which LoRA adapter (a PEFT folder, as ``pagedllm.finetune`` writes) a request runs with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass
class LoRARequest:
    """A LoRA adapter for ``LLM.generate`` / ``LLM.chat`` (vLLM's ``LoRARequest``).

    The adapter is loaded the first time a request names it; ``lora_int_id`` (>= 1) identifies it afterwards, so
    two requests with the same id must name the same folder.
    """

    lora_name: str
    lora_int_id: int
    lora_path: str = ""
    lora_local_path: Optional[str] = None
    base_model_name: Optional[str] = None

    def __post_init__(self) -> None:
        if not isinstance(self.lora_name, str) or not self.lora_name:
            raise ValueError(f"lora_name must be a non-empty string, got {self.lora_name!r}")
        if not isinstance(self.lora_int_id, int) or isinstance(self.lora_int_id, bool) or self.lora_int_id < 1:
            raise ValueError(f"lora_int_id must be > 0, got {self.lora_int_id!r}")
        if not self.lora_path and self.lora_local_path:
            self.lora_path = self.lora_local_path
        if not isinstance(self.lora_path, str) or not self.lora_path:
            raise ValueError(f"lora_path must name the adapter's folder, got {self.lora_path!r}")

    @property
    def adapter_id(self) -> int:
        return self.lora_int_id

    @property
    def name(self) -> str:
        return self.lora_name

    @property
    def path(self) -> str:
        return self.lora_path
