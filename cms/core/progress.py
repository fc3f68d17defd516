"""Progress bars for long management commands (import_content, build_site), drawn by tqdm: count, rate and
time left, redrawn in place on a terminal and silent when the output is not one (a log, a pipe, tests)."""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm


class Progress:
    """A `progress(done, total)` callback that draws one bar, once `total` reaches `threshold` (a short run
    needs none). The bar closes when done reaches total."""

    def __init__(self, label: str, *, threshold: int = 40, stream: TextIO | None = None, unit: str = "个文件"):
        self.label, self.threshold, self.unit = label, threshold, unit
        self.stream = stream or sys.stderr
        self.bar: tqdm | None = None

    def __call__(self, done: int, total: int):
        if total < self.threshold:
            return
        if self.bar is None:
            # disable=None: drawn only when the stream is a terminal.
            self.bar = tqdm(total=total, desc=self.label, unit=self.unit, file=self.stream, disable=None, leave=True)
        self.bar.total = total
        self.bar.update(done - self.bar.n)
        if done >= total:
            self.bar.close()
