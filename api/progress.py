"""A small progress line for long CLI jobs, on stderr so stdout stays machine-readable."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class ProgressBar:
    def __init__(self, label: str, total: int | None = None, stream: TextIO = sys.stderr) -> None:
        self.label = label
        self.total = total
        self.stream = stream
        self.done = 0
        self._started = time.monotonic()
        self._last_draw = 0.0

    def advance(self, amount: int) -> None:
        self.update(self.done + amount)

    def update(self, done: int, total: int | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        now = time.monotonic()
        if now - self._last_draw >= 0.2:
            self._draw(now)

    def close(self) -> None:
        self._draw(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self, now: float) -> None:
        self._last_draw = now
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        if self.total:
            share = min(self.done / self.total, 1.0)
            bar = "#" * int(share * 30)
            text = f"\r{self.label} [{bar:<30}] {self.done:,}/{self.total:,} ({rate:,.0f}/s)"
        else:
            text = f"\r{self.label} {self.done:,} ({rate:,.0f}/s)"
        self.stream.write(text)
        self.stream.flush()


def print_import_report(report: Any) -> int:
    """Print an import's summary and one line per rejected row; the exit code (1 if any was rejected)."""
    print(f"accepted {report.accepted}, duplicates {report.duplicates}, rejected {len(report.rejected)}")
    for row in report.rejected:
        print(f"line {row.line}: {row.field}: {row.reason}")
    return 1 if report.rejected else 0
