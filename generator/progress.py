"""Progress reporting: a bar on a terminal; elsewhere (a log, CI, `make run | tee`) a plain line
every few seconds with the pages done and the rate."""
from __future__ import annotations

import sys
import time
from typing import Self

LOG_EVERY = 5.0  # seconds between two progress lines when stderr is not a terminal


class Progress:
    def __init__(self, label: str, total: int, *, quiet: bool = False, log_every: float = LOG_EVERY) -> None:
        self.label = label
        self.total = max(total, 1)
        self.done = 0
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.start = time.perf_counter()
        self._last = 0.0
        self.log_every = log_every
        self._logged = self.start

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.quiet:
            return
        now = time.perf_counter()
        if not self.tty:
            if now - self._logged >= self.log_every and self.done < self.total:
                self._logged = now
                rate = self.done / max(now - self.start, 1e-9)
                share = self.done * 100 // self.total
                sys.stderr.write(f"{self.label:<10} {self.done:,}/{self.total:,} ({share}%), {rate:,.0f}/s\n")
                sys.stderr.flush()
            return
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
