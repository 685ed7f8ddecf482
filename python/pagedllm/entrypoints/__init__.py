"""Entry points with vLLM's module paths (``pagedllm.entrypoints.openai.api_server``)."""
