"""``python3 -m pagedllm.entrypoints.openai.api_server --model DIR [flags]``: the OpenAI-compatible server of
``pagedllm serve``, run in this process with the same flags (vLLM's names: --host --port --served-model-name
--api-key --chat-template --max-model-len ...). SIGINT/SIGTERM shut it down gracefully."""

from __future__ import annotations

import sys
from typing import List, Optional

from ... import _pagedllm


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the server with ``argv`` (default: the command line's arguments); returns the exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    sys.stdout.flush()
    return _pagedllm.cli_main(["pagedllm.entrypoints.openai.api_server", "serve", *args])


if __name__ == "__main__":
    sys.exit(main())
