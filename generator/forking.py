"""Forked helper processes: work that runs on the other core while the build goes on.

A child only ever reports success or failure (its exit status). When it fails, the caller
redoes the work in-process, where the error is raised with its full message; so a helper
can cost time, never correctness or error reports.
"""
from __future__ import annotations

import contextlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    """Whether helpers may be forked (CODEREF_NO_FORK=1 keeps all work in one process)."""
    return hasattr(os, "fork") and os.environ.get("CODEREF_NO_FORK") != "1"


def start(work: Callable[[], object]) -> int | None:
    """Forks a child that runs `work` and exits 0, or 1 if it raised; returns the child's pid,
    or None when no child could be made (out of memory or processes): the caller then does
    the work itself.

    The child leaves through `os._exit`: none of the parent's cleanup (atexit handlers, open
    database connections, temporary folders) runs twice.
    """
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # pragma: no cover - runs in the child, which never returns
        try:
            work()
        except BaseException:  # the parent redoes the work and reports the error
            os._exit(1)
        os._exit(0)
    return pid


def succeeded(pid: int) -> bool:
    """Waits for a child of `start` and tells whether its work succeeded."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return False
    return os.waitstatus_to_exitcode(status) == 0


def stop(pid: int) -> None:
    """Ends a child of `start` that is no longer wanted and reaps it."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, 9)
    succeeded(pid)


class Ahead(Generic[T]):
    """Work started in a forked child now and its result taken later (`result()`), pickled through a
    file in `folder`: for a stage that needs only what the build has so far, started while the
    build's own process goes on with stages that leave the other core idle.

    Like every helper here, a child that fails only costs time: `result()` then does the work in
    this process, where the error is raised with its message. Without fork (or with
    CODEREF_NO_FORK=1), `start()` does nothing and `result()` does the work.
    """

    def __init__(self, work: Callable[[], T], folder: Path, name: str) -> None:
        self._work = work
        self._file = folder / f"ahead-{name}-{os.getpid()}.pickle"
        self._pid: int | None = None
        self._status: int | None = None  # the child's wait status, once `running()` saw it end

    def running(self) -> bool:
        """Whether the child is still at work (one that ended is reaped here, its status kept)."""
        if self._pid is None or self._status is not None:
            return False
        pid, status = os.waitpid(self._pid, os.WNOHANG)
        if pid == 0:
            return True
        self._status = status
        return False

    def start(self) -> None:
        if not can_fork():
            return
        self._file.parent.mkdir(parents=True, exist_ok=True)
        self._file.unlink(missing_ok=True)
        self._pid = start(self._write)

    def _write(self) -> None:
        value = self._work()
        tmp = self._file.with_name(self._file.name + ".tmp")
        with open(tmp, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self._file)

    def result(self) -> T:
        """The child's result once it is done; the work done here if it failed (or never started)."""
        pid, self._pid, status = self._pid, None, self._status
        if pid is not None and status is None:
            ok = succeeded(pid)
        else:
            ok = status is not None and os.waitstatus_to_exitcode(status) == 0
        if ok and self._file.is_file():
            with open(self._file, "rb") as f:
                value: T = pickle.load(f)
            self._file.unlink()
            return value
        self._file.unlink(missing_ok=True)
        return self._work()

    def stop(self) -> None:
        """Ends the child, if one is still at work (the build failed before it needed the result)."""
        if self._pid is not None and self._status is None:
            stop(self._pid)
        self._pid = None
        self._file.unlink(missing_ok=True)
