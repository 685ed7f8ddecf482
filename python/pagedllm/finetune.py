"""QLoRA / LoRA fine-tuning from Python: ``pagedllm.finetune`` runs the trainer of ``pagedllm finetune`` and
returns the loss history and the adapter folder, which ``LoRARequest`` then serves."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Union

from . import _pagedllm


@dataclass
class FinetuneResult:
    """What a fine-tuning run produced.

    Attributes:
        adapter_path: the PEFT adapter folder (adapter_config.json + adapter_model.safetensors).
        loss_history: the mean training loss of every optimizer step this run made.
        steps: per step: step, num_steps, loss, eval_loss, lr, grad_norm, num_tokens.
        final_eval_loss: the loss on eval_data at the end (None without eval data).
    """

    adapter_path: str
    loss_history: List[float]
    steps: List[Dict[str, object]] = field(repr=False)
    final_eval_loss: Optional[float] = None
    tokens_per_second: float = 0.0
    peak_resident_bytes: int = 0
    optimizer_state_bytes: int = 0


_QUANTIZATIONS = ("nf4", "fp4", "int4", "none")
_SCHEDULERS = ("constant", "constant_with_warmup", "linear", "cosine")
_OPTIMIZERS = ("paged_adamw_32bit", "paged_adamw_8bit", "adamw")
_MODULES = ("all", "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def _check(name: str, value, kind, minimum=None, exclusive=False) -> None:
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise TypeError(f"{name} must be {kind.__name__}, got {value!r}")
    if minimum is not None and (value <= minimum if exclusive else value < minimum):
        raise ValueError(f"{name} must be {'greater than' if exclusive else 'at least'} {minimum}, got {value}")


def finetune(
    model: str,
    data: str,
    output_dir: str,
    *,
    tokenizer: Optional[str] = None,
    load_format: str = "auto",
    quantization: str = "nf4",
    double_quant: bool = True,
    lora_r: int = 64,
    lora_alpha: float = 16,
    lora_dropout: float = 0.05,
    lora_target_modules: Union[str, Sequence[str]] = "all",
    learning_rate: float = 2e-4,
    lr_scheduler: str = "constant",
    warmup_ratio: float = 0.03,
    max_grad_norm: float = 0.3,
    weight_decay: float = 0.0,
    batch_size: int = 1,
    gradient_accumulation_steps: int = 1,
    max_steps: int = 0,
    epochs: int = 1,
    max_seq_len: int = 512,
    train_on_source: bool = False,
    group_by_length: bool = False,
    gradient_checkpointing: bool = True,
    optim: str = "paged_adamw_32bit",
    optimizer_memory: int = 0,
    save_steps: int = 0,
    eval_data: Optional[str] = None,
    eval_steps: int = 0,
    seed: int = 42,
    resume: bool = False,
    num_threads: int = 0,
    quiet: bool = True,
    callback: Optional[Callable[[Dict[str, object]], None]] = None,
) -> FinetuneResult:
    """Trains a LoRA adapter on ``data`` (JSON lines: alpaca, prompt/completion, messages or text) over the frozen
    ``model`` (4-bit NF4 with double quantization by default, as QLoRA) and writes it to ``output_dir`` in PEFT's
    format. Options are those of ``pagedllm finetune`` (``--lora-r`` is ``lora_r``, ``--output`` is ``output_dir``,
    ``--eval-data`` is ``eval_data``); ``quiet=False`` shows the trainer's progress bar and ``callback`` receives
    each optimizer step's log. Ctrl-C stops the run after the current step (``resume=True`` continues from the last
    checkpoint, see ``save_steps``).

    Returns:
        FinetuneResult with ``adapter_path`` and ``loss_history``.
    """
    for name, path in (("model", model), ("data", data)):
        if not isinstance(path, (str, os.PathLike)) or not os.path.exists(path):
            raise FileNotFoundError(f"{name} not found: {path}")
    if eval_data is not None and not os.path.exists(eval_data):
        raise FileNotFoundError(f"eval_data not found: {eval_data}")
    if not isinstance(output_dir, (str, os.PathLike)) or not os.fspath(output_dir):
        raise ValueError(f"output_dir must name a folder, got {output_dir!r}")
    if load_format not in ("auto", "dummy"):
        raise ValueError(f"load_format must be auto or dummy, got {load_format!r}")
    if quantization not in _QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {', '.join(_QUANTIZATIONS)}, got {quantization!r}")
    if lr_scheduler not in _SCHEDULERS:
        raise ValueError(f"lr_scheduler must be one of {', '.join(_SCHEDULERS)}, got {lr_scheduler!r}")
    if optim not in _OPTIMIZERS:
        raise ValueError(f"optim must be one of {', '.join(_OPTIMIZERS)}, got {optim!r}")
    modules = lora_target_modules.split(",") if isinstance(lora_target_modules, str) else list(lora_target_modules)
    for m in modules:
        if m not in _MODULES:
            raise ValueError(f"lora_target_modules: unknown module {m!r} (expected {', '.join(_MODULES)})")
    _check("lora_r", lora_r, int, 1)
    _check("lora_alpha", lora_alpha, float, 0, exclusive=True)
    _check("lora_dropout", lora_dropout, float, 0)
    if lora_dropout >= 1:
        raise ValueError(f"lora_dropout must be below 1, got {lora_dropout}")
    _check("learning_rate", learning_rate, float, 0, exclusive=True)
    _check("warmup_ratio", warmup_ratio, float, 0)
    _check("max_grad_norm", max_grad_norm, float, 0)
    _check("weight_decay", weight_decay, float, 0)
    _check("batch_size", batch_size, int, 1)
    _check("gradient_accumulation_steps", gradient_accumulation_steps, int, 1)
    _check("max_steps", max_steps, int, 0)
    _check("epochs", epochs, int, 1)
    _check("max_seq_len", max_seq_len, int, 2)
    _check("optimizer_memory", optimizer_memory, int, 0)
    _check("save_steps", save_steps, int, 0)
    _check("eval_steps", eval_steps, int, 0)
    _check("seed", seed, int, 0)
    _check("num_threads", num_threads, int, 0)
    for name, value in (("double_quant", double_quant), ("train_on_source", train_on_source),
                        ("group_by_length", group_by_length), ("gradient_checkpointing", gradient_checkpointing),
                        ("resume", resume), ("quiet", quiet)):
        _check(name, value, bool)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {callback!r}")

    c = _pagedllm.TrainerConfig()
    c.model_dir = os.fspath(model)
    c.data_path = os.fspath(data)
    c.output_dir = os.fspath(output_dir)
    c.eval_data_path = os.fspath(eval_data) if eval_data is not None else ""
    c.is_dummy_weights = load_format == "dummy"
    c.quantization = quantization
    c.double_quant = double_quant
    c.lora_r = lora_r
    c.lora_alpha = float(lora_alpha)
    c.lora_dropout = float(lora_dropout)
    c.target_modules = modules
    c.learning_rate = float(learning_rate)
    c.lr_scheduler = lr_scheduler
    c.warmup_ratio = float(warmup_ratio)
    c.max_grad_norm = float(max_grad_norm)
    c.weight_decay = float(weight_decay)
    c.batch_size = batch_size
    c.gradient_accumulation_steps = gradient_accumulation_steps
    c.max_steps = max_steps
    c.epochs = epochs
    c.max_seq_len = max_seq_len
    c.train_on_source = train_on_source
    c.group_by_length = group_by_length
    c.gradient_checkpointing = gradient_checkpointing
    c.optim = optim
    c.optimizer_memory = optimizer_memory
    c.save_steps = save_steps
    c.eval_steps = eval_steps
    c.seed = seed
    c.resume = resume
    c.show_progress = not quiet
    r = _pagedllm.run_finetune(c, os.fspath(tokenizer) if tokenizer else "", num_threads, callback)
    return FinetuneResult(
        adapter_path=os.path.abspath(output_dir),
        loss_history=[s["loss"] for s in r["steps"]],
        steps=r["steps"],
        final_eval_loss=r["final_eval_loss"],
        tokens_per_second=r["tokens_per_second"],
        peak_resident_bytes=r["peak_resident_bytes"],
        optimizer_state_bytes=r["optimizer_state_bytes"],
    )
