"""Tasks shared by the build process and forked workers (generator/workers.py)."""
from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest

from generator.errors import BuildError
from generator.workers import run_shared


def _slow(k: int) -> Callable[[], tuple[int, int]]:
    def task() -> tuple[int, int]:
        time.sleep(0.01)
        return k, os.getpid()

    return task


def test_every_task_runs_once_and_its_result_comes_back_here() -> None:
    got: dict[int, tuple[int, int]] = {}
    order: dict[int, list[int]] = {}

    def handle(k: int, result: tuple[int, int]) -> None:
        assert k not in got
        got[k] = result
        order.setdefault(result[1], []).append(k)

    run_shared([_slow(k) for k in range(40)], 2, handle)
    assert sorted(got) == list(range(40)) and all(got[k][0] == k for k in got)
    assert os.getpid() in order and len(order) >= 2  # this process took tasks too, and so did a worker
    here = order.pop(os.getpid())
    # The workers from the front, this process from the back (each process's results in the order it
    # ran them), until they met.
    front = sorted(k for ks in order.values() for k in ks)
    assert front == list(range(len(front))) and here == list(range(39, len(front) - 1, -1))
    assert all(ks == sorted(ks) for ks in order.values())


def test_the_first_tasks_go_in_order_to_whoever_is_free_then_this_process_takes_from_the_back() -> None:
    order: dict[int, list[int]] = {}
    run_shared([_slow(k) for k in range(30)], 1, lambda k, r: order.setdefault(r[1], []).append(k), first=4)
    here = order.pop(os.getpid())
    (there,) = order.values()
    assert sorted(here + there) == list(range(30))
    # Of the first four, each process took the next one left; then the worker went on in order and
    # this process from the end backwards.
    firsts = [k for k in here if k < 4]
    rest = here[len(firsts) :]
    assert here[: len(firsts)] == firsts and rest == list(range(29, 29 - len(rest), -1))
    assert there == sorted(there) and max(there) < min(rest)


def test_an_error_in_a_worker_is_raised_here_with_its_message() -> None:
    def fails() -> None:
        if os.getpid() != parent:
            raise BuildError("content/x.md:3: the worker's own message")
        time.sleep(0.5)  # this process: slow, so that a worker takes the failing task

    parent = os.getpid()
    with pytest.raises(BuildError, match=r"^content/x\.md:3: the worker's own message$"):
        run_shared([fails] * 4, 1, lambda k, r: None)


class _Unpicklable(Exception):
    def __init__(self, a: str, b: str) -> None:  # unpickling calls it with one argument: fails
        super().__init__(f"{a} {b}")


def test_an_error_that_cannot_travel_comes_back_as_a_build_error_with_its_traceback() -> None:
    def fails() -> None:
        if os.getpid() != parent:
            raise _Unpicklable("odd", "error")
        time.sleep(0.5)

    parent = os.getpid()
    with pytest.raises(BuildError, match=r"(?s)in a render worker: Traceback.*_Unpicklable: odd error"):
        run_shared([fails] * 4, 1, lambda k, r: None)


def test_a_worker_that_dies_fails_the_build_instead_of_losing_its_tasks() -> None:
    def dies() -> int:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.2)
        return 0

    parent = os.getpid()
    with pytest.raises(BuildError, match=r"a render worker stopped before finishing its tasks"):
        run_shared([dies] * 6, 1, lambda k, r: None)


def test_no_fork_left_means_this_process_does_every_task(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    got: list[Any] = []
    run_shared([_slow(k) for k in range(5)], 2, lambda k, r: got.append(r))
    assert got == [(k, os.getpid()) for k in reversed(range(5))]  # from the back, as when it has workers


def test_a_result_that_cannot_travel_is_an_error_naming_the_task() -> None:
    import threading

    def keeps_a_lock() -> object:
        if os.getpid() != parent:
            return threading.Lock()  # cannot be pickled
        time.sleep(0.5)
        return None

    parent = os.getpid()
    with pytest.raises(BuildError, match=r"keeps_a_lock.*cannot be sent back from a render worker"):
        run_shared([keeps_a_lock] * 4, 1, lambda k, r: None)


def test_a_worker_past_its_memory_bound_retires_and_a_fresh_one_takes_its_place() -> None:
    got: dict[int, tuple[int, int]] = {}
    run_shared([_slow(k) for k in range(30)], 1, lambda k, r: got.__setitem__(k, r), retire_mib=0)
    assert sorted(got) == list(range(30)) and all(got[k][0] == k for k in got)
    workers = {pid for _, pid in got.values()} - {os.getpid()}
    assert len(workers) >= 2  # each worker ran one task (its pages > 0 MiB) and was replaced


def test_a_held_place_is_filled_by_a_worker_only_once_it_is_free() -> None:
    got: dict[int, tuple[int, int]] = {}
    free_after = time.monotonic() + 0.15  # the other child of the build ends then
    asked: list[bool] = []

    def held() -> bool:
        asked.append(time.monotonic() < free_after)
        return asked[-1]

    run_shared([_slow(k) for k in range(60)], 1, lambda k, r: got.__setitem__(k, r), held=held)
    assert sorted(got) == list(range(60))
    by_pid: dict[int, list[int]] = {}
    for k, (_, pid) in got.items():
        by_pid.setdefault(pid, []).append(k)
    here = by_pid.pop(os.getpid())
    # While the place was held this process ran the tasks alone, from the back; the worker forked
    # after it came free took the front ones.
    assert asked[0] and not asked[-1] and len(by_pid) == 1
    (there,) = by_pid.values()
    assert 0 in there and len(here) >= 10 and min(here) > max(there)


def test_no_worker_waits_for_a_place_that_is_never_held() -> None:
    got: dict[int, tuple[int, int]] = {}
    run_shared([_slow(k) for k in range(20)], 1, lambda k, r: got.__setitem__(k, r), held=lambda: False)
    assert sorted(got) == list(range(20)) and len({pid for _, pid in got.values()}) == 2
