"""Background threads that work a database queue in rounds: go straight on while there is work,
otherwise sleep until the poll interval passes or `wake()` is called."""

from __future__ import annotations

import logging
import threading

from .db import Unavailable


class Looper:
    """Subclasses give `round()` (True: more work may be waiting) and a `poll` interval."""

    def __init__(self, thread_name: str, poll: float, log: logging.Logger) -> None:
        self.thread_name = thread_name
        self.poll = poll
        self.log = log
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def round(self) -> bool:
        raise NotImplementedError

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.round()
            except Unavailable as exc:
                self.log.error("%s: the database is unavailable, retrying: %s", self.thread_name, exc)
                busy = False
            except Exception:  # the loop must outlive any one bad round; logged in full
                self.log.exception("%s: round failed, retrying", self.thread_name)
                busy = False
            if not busy:
                self._wake.wait(self.poll)
                self._wake.clear()

    def wake(self) -> None:
        """Looks at the queue now (call after committing a transaction that added work)."""
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
