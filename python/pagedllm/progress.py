"""The progress bar of ``LLM.generate``: tqdm when it is installed (Debian's python3-tqdm), else a one-line bar on
stderr."""

from __future__ import annotations

import sys
import time

try:
    from tqdm import tqdm as _tqdm
except ImportError:  # tqdm is optional
    _tqdm = None


class _TextBar:
    def __init__(self, total: int, desc: str) -> None:
        self.total, self.desc, self.n = total, desc, 0
        self.start = time.monotonic()
        self._draw()

    def update(self, count: int) -> None:
        self.n += count
        self._draw()

    def _draw(self) -> None:
        width = 30
        filled = width * self.n // max(self.total, 1)
        elapsed = time.monotonic() - self.start
        sys.stderr.write(f"\r{self.desc}: {self.n}/{self.total} [{'#' * filled}{'.' * (width - filled)}] "
                         f"{elapsed:.1f}s")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()


def progress_bar(total: int, desc: str):
    """A bar with update(count) and close()."""
    if _tqdm is not None:
        return _tqdm(total=total, desc=desc, dynamic_ncols=True)
    return _TextBar(total, desc)
