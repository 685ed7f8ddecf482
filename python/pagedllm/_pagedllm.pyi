"""Type stubs of the native module (python/src/*.cc). Users call the pagedllm package instead."""

from typing import Callable, Dict, List, Optional, Tuple, Union

class EngineArgs:
    model: str
    tokenizer: str
    load_format: str
    dtype: str
    quantization: str
    double_quant: bool
    quant_block_size: int
    quantize_lm_head: bool
    block_size: int
    kv_cache_dtype: str
    kv_cache_memory: int
    num_kv_blocks: int
    max_model_len: int
    max_num_seqs: int
    max_num_batched_tokens: int
    enable_chunked_prefill: bool
    enable_prefix_caching: bool
    max_queued_requests: int
    seed: int
    num_threads: int
    loras: List[Tuple[str, str]]
    max_loras: int
    max_lora_rank: int
    def __init__(self) -> None: ...

class StructuredOutputsParams:
    json: Optional[str]
    json_object: bool
    regex: Optional[str]
    choice: List[str]
    grammar: Optional[str]
    any_whitespace: bool
    def __init__(self) -> None: ...

class SamplingParams:
    n: int
    presence_penalty: float
    frequency_penalty: float
    repetition_penalty: float
    temperature: float
    top_p: float
    top_k: int
    min_p: float
    seed: Optional[int]
    stop: List[str]
    stop_token_ids: List[int]
    ignore_eos: bool
    max_tokens: int
    min_tokens: int
    logprobs: Optional[int]
    prompt_logprobs: Optional[int]
    skip_special_tokens: bool
    spaces_between_special_tokens: bool
    include_stop_str_in_output: bool
    logit_bias: Dict[int, float]
    structured_outputs: Optional[StructuredOutputsParams]
    def __init__(self) -> None: ...
    def validate(self) -> None: ...

class PromptInput:
    text: str
    token_ids: List[int]
    add_special_tokens: bool
    def __init__(self) -> None: ...

# (index, text, token_ids, cumulative_logprob, logprobs, finish_reason, stop_reason)
CompletionTuple = Tuple[int, str, List[int], Optional[float],
                        Optional[List[Dict[int, Tuple[float, int, str]]]], Optional[str], Union[int, str, None]]
# (request_id, prompt, prompt_token_ids, outputs, finished)
RequestTuple = Tuple[str, str, List[int], List[CompletionTuple], bool]

class Engine:
    def __init__(self, args: EngineArgs) -> None: ...
    def generate(self, prompts: List[PromptInput], params: List[SamplingParams], lora_names: List[str],
                 on_progress: Optional[Callable[[int], None]] = None) -> List[RequestTuple]: ...
    def add_lora(self, name: str, path: str) -> None: ...
    def close(self) -> None: ...
    def lora_names(self) -> List[str]: ...
    @property
    def max_model_len(self) -> int: ...
    @property
    def num_kv_blocks(self) -> int: ...
    @property
    def num_free_kv_blocks(self) -> int: ...
    def reset_prefix_cache(self) -> None: ...
    def stats(self) -> Dict[str, int]: ...

class Tokenizer:
    @staticmethod
    def from_path(path: str) -> "Tokenizer": ...
    def encode(self, text: str, add_special_tokens: bool = True) -> List[int]: ...
    def decode(self, ids: List[int], skip_special_tokens: bool = False) -> str: ...
    def id_to_token(self, id: int) -> str: ...
    def token_to_id(self, token: str) -> Optional[int]: ...
    def is_special(self, id: int) -> bool: ...
    @property
    def vocab_size(self) -> int: ...
    @property
    def bos_token_id(self) -> Optional[int]: ...
    @property
    def eos_token_id(self) -> Optional[int]: ...
    @property
    def bos_token(self) -> str: ...
    @property
    def eos_token(self) -> str: ...
    @property
    def chat_template(self) -> Optional[str]: ...

def render_chat_template(template_source: str, messages_json: str, tools_json: str, add_generation_prompt: bool,
                         bos_token: str, eos_token: str, extra_json: str) -> str: ...

class TrainerConfig:
    model_dir: str
    data_path: str
    output_dir: str
    eval_data_path: str
    is_dummy_weights: bool
    quantization: str
    double_quant: bool
    lora_r: int
    lora_alpha: float
    lora_dropout: float
    target_modules: List[str]
    learning_rate: float
    lr_scheduler: str
    warmup_ratio: float
    max_grad_norm: float
    weight_decay: float
    batch_size: int
    gradient_accumulation_steps: int
    max_steps: int
    epochs: int
    max_seq_len: int
    train_on_source: bool
    group_by_length: bool
    gradient_checkpointing: bool
    optim: str
    optimizer_memory: int
    save_steps: int
    eval_steps: int
    seed: int
    resume: bool
    show_progress: bool
    def __init__(self) -> None: ...

def run_finetune(config: TrainerConfig, tokenizer_path: str, num_threads: int,
                 on_step: Optional[Callable[[Dict[str, object]], None]] = None) -> Dict[str, object]: ...

def cli_main(argv: List[str]) -> int: ...
