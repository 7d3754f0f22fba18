"""Progress reporting: a bar on a terminal, plain lines elsewhere (CI logs)."""
from __future__ import annotations

import sys
import time
from typing import Self


class Progress:
    def __init__(self, label: str, total: int, *, quiet: bool = False) -> None:
        self.label = label
        self.total = max(total, 1)
        self.done = 0
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.start = time.perf_counter()
        self._last = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.quiet or not self.tty:
            return
        now = time.perf_counter()
        if now - self._last < 0.1 and self.done < self.total:
            return
        self._last = now
        frac = min(self.done / self.total, 1.0)
        bar = "#" * int(frac * 30)
        sys.stderr.write(f"\r{self.label:<10} [{bar:<30}] {self.done:>7}/{self.total}")
        sys.stderr.flush()

    def finish(self, note: str = "") -> float:
        took = time.perf_counter() - self.start
        if not self.quiet:
            if self.tty:
                sys.stderr.write("\r\033[K")
            sys.stderr.write(f"{self.label:<10} {self.done} in {took:.2f}s{(' ' + note) if note else ''}\n")
            sys.stderr.flush()
        return took


def say(message: str, *, quiet: bool = False) -> None:
    if not quiet:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()


class phase:
    """`with phase("store"):` prints how long a build stage took (one line, stderr)."""

    def __init__(self, label: str, *, quiet: bool = False) -> None:
        self.label = label
        self.quiet = quiet

    def __enter__(self) -> Self:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            say(f"{self.label:<10} {time.perf_counter() - self.start:.2f}s", quiet=self.quiet)
