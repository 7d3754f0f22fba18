"""Forked helper processes: work that runs on the other core while the build goes on.

A child only ever reports success or failure (its exit status). When it fails, the caller
redoes the work in-process, where the error is raised with its full message; so a helper
can cost time, never correctness or error reports.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable


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
