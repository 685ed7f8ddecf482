"""pagedllm: serve and fine-tune Hugging Face LLMs on CPUs, with vLLM's Python API.

    from pagedllm import LLM
    prompts = ["Hello, my name is", "The capital of France is"]
    llm = LLM(model="models/stories260K")
    outputs = llm.generate(prompts)

``LLM`` (generate, chat, get_tokenizer), ``SamplingParams``, ``RequestOutput`` / ``CompletionOutput``,
``LoRARequest`` and ``finetune`` (QLoRA); ``python3 -m pagedllm.entrypoints.openai.api_server --model DIR`` starts
the OpenAI-compatible server.
"""

from .finetune import FinetuneResult, finetune
from .llm import LLM
from .lora import LoRARequest
from .outputs import CompletionOutput, Logprob, RequestOutput
from .sampling_params import SamplingParams
from .structured_outputs import GuidedDecodingParams, StructuredOutputsParams
from .tokenizer import Tokenizer

__version__ = "0.1.0"

__all__ = [
    "LLM",
    "SamplingParams",
    "StructuredOutputsParams",
    "GuidedDecodingParams",
    "RequestOutput",
    "CompletionOutput",
    "Logprob",
    "LoRARequest",
    "Tokenizer",
    "finetune",
    "FinetuneResult",
    "__version__",
]
