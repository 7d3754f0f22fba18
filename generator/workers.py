"""Tasks shared by this process and forked workers: each takes the next task nobody has taken.

The render stage's processes. The workers inherit the tasks (and the whole model they read)
through fork; only results travel, pickled, back to this process, which also runs tasks itself
between handling them. Counting this process as one of the workers matters for memory as much
as for time: every page of the model a process touches (a reference count is a write) becomes
that process's private copy, so each extra process holding the model costs up to its size again.

Hence workers retire (`retire_mib`): once a worker's own pages pass the bound after a task, it
ends and a fresh one is forked in its place, sharing the parent's pages again. A worker that ran
a task touching the whole model (the search index, the data and write stages) otherwise kept a
copy of all of it until the last page was rendered.
"""
from __future__ import annotations

import pickle
import queue
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .errors import BuildError

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

Task = Callable[[], Any]
# How often a worker past its first task asks for its own pages after a page task (side tasks are
# always followed by the question): reading /proc/self/smaps_rollup walks every page the process
# maps, 30-40 ms for a worker of the default site's build, and it was asked after every task.
CHECK_EVERY_S = 1.0


def run_shared(
    tasks: Sequence[Task], workers: int, handle: Callable[[int, Any], None], *, first: int = 0,
    retire_mib: int | None = None, held: Callable[[], bool] | None = None,
) -> None:
    """Runs each of `tasks` once, here and in `workers` forked processes. The `first` tasks (the
    longest: the side work) are taken in list order by whichever process is free; after them the
    workers take the rest in list order and this process from the end backwards, until they meet.

    Why two ends: neighbouring tasks (record pages of one code set) write into one directory, and
    two processes creating entries in one directory wait for each other on its lock; from the two
    ends they work in different code sets until they meet.

    `handle(k, result)` is called here with the result of `tasks[k]`, as results come in; the
    results of one process come in the order it ran its tasks. The first error of any task is
    raised here (the workers are then stopped); a result that cannot be pickled is an error.
    `retire_mib`: a worker whose own pages (`own_mib`) exceed this after a task ends, and a new
    worker is forked in its place while tasks are left (see the module docstring).
    `held`: while it returns True, a process outside these (a forked child of the build at other
    work, e.g. the search index) holds one worker's place: that worker is forked once it is False.
    """
    # Imported here: multiprocessing (with socket) costs every `coderef` command 10 ms otherwise.
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    n = len(tasks)
    # The first task not taken from the front and one past the last not taken from the back,
    # shared by every process; a task is taken once, by whichever end reaches it first.
    ends = ctx.Array("q", [0, n])

    def take(*, back: bool = False) -> int:
        """The next task of the front (of the back once the `first` are taken), or `n` when none is left."""
        with ends.get_lock():
            lo, hi = int(ends[0]), int(ends[1])
            if lo >= hi:
                return n
            if back and lo >= first:
                ends[1] = hi - 1
                return hi - 1
            ends[0] = lo + 1
            return lo

    procs: list[BaseProcess] = []
    conns: list[Connection] = []  # the read ends of the live workers' pipes
    # Results as soon as they are sent (this process may be busy with a task of its own; a worker
    # would otherwise wait on a full pipe), one reading thread per worker; a worker's pipe itself
    # when it is done (or died: counted below).
    inbox: queue.SimpleQueue[bytes | Connection] = queue.SimpleQueue()

    def fork() -> bool:
        """Starts a worker; False when none could be made (no memory or processes left: fewer do
        the work, as in forking.py)."""
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=_work, args=(send, [*conns, recv], take, tasks, retire_mib, first), daemon=True,
            name="coderef-render",
        )
        try:
            proc.start()
        except OSError:
            recv.close()
            return False
        finally:
            send.close()
        procs.append(proc)
        conns.append(recv)
        threading.Thread(target=_read, args=(recv, inbox), daemon=True).start()
        return True

    waiting = 1 if held is not None and workers > 0 and held() else 0  # a worker's place held (see above)
    try:
        for _ in range(workers - waiting):
            if not fork():
                break
        handled = 0

        def drain(*, block: bool) -> None:
            nonlocal handled
            while conns:
                try:
                    data = inbox.get(block=block)
                except queue.Empty:
                    return
                if not isinstance(data, bytes):  # a worker's pipe: it is done, retired or died
                    conns.remove(data)
                    data.close()
                    if retire_mib is not None and int(ends[0]) < int(ends[1]):
                        fork()  # a fresh worker in its place (none: this process does its share)
                    continue
                status, k, value = pickle.loads(data)
                if status == "error":
                    raise value
                handle(k, value)
                handled += 1

        while (k := take(back=True)) < n:
            handle(k, tasks[k]())
            handled += 1
            drain(block=False)
            if waiting and held is not None and not held():
                waiting = 0
                if int(ends[0]) < int(ends[1]):
                    fork()
        drain(block=True)
        if handled != n:
            codes = ", ".join(str(p.exitcode) for p in procs)
            raise BuildError(
                f"a render worker stopped before finishing its tasks ({handled} of {n} done; exit "
                f"codes {codes}); out of memory? Build again with --jobs 1 to see any error in-process"
            )
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
            proc.join()
        for conn in conns:
            conn.close()


def own_mib() -> int | None:
    """This process's own memory: its private pages (a forked worker's copies of the parent's pages
    it wrote to, and what it allocated), in MiB; None where /proc does not tell (not Linux)."""
    try:
        with open("/proc/self/smaps_rollup") as f:
            for line in f:
                if line.startswith("Private_Dirty:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def _work(
    send: Connection, inherited: list[Connection], take: Callable[[], int], tasks: Sequence[Task],
    retire_mib: int | None, first: int = 0,
) -> None:
    """A worker's loop: the next task, its result sent back; the first error is sent and ends it,
    and so does passing `retire_mib` (see `run_shared`), asked after its first task, after each of the
    `first` (side) tasks, which touch the whole model, and otherwise at most every `CHECK_EVERY_S`."""
    for conn in inherited:  # the parent's ends: if it dies, a send fails instead of blocking forever
        conn.close()
    asked: float | None = None  # when own_mib was last asked
    try:
        while (k := take()) < len(tasks):
            try:
                result = tasks[k]()
            except BaseException as exc:  # sent to the parent, which raises it
                send.send(("error", k, _portable(exc)))
                return
            try:
                data = pickle.dumps(("ok", k, result))
            except Exception as exc:  # e.g. a data stage's Pending holding an open connection
                send.send(("error", k, BuildError(
                    f"the result of {getattr(tasks[k], '__qualname__', tasks[k])!r} cannot be sent back "
                    f"from a render worker ({type(exc).__name__}: {exc}); return paths and plain values"
                )))
                return
            send.send_bytes(data)
            due = asked is None or k < first or time.monotonic() - asked >= CHECK_EVERY_S
            if retire_mib is not None and due:
                asked = time.monotonic()
                if (own := own_mib()) is not None and own > retire_mib:
                    return
    finally:
        send.close()


def _portable(exc: BaseException) -> BaseException:
    """`exc` if it survives pickling, else a BuildError carrying its type, message and traceback."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return BuildError(f"in a render worker: {''.join(traceback.format_exception(exc))}")
    return exc


def _read(conn: Connection, inbox: queue.SimpleQueue[bytes | Connection]) -> None:
    """One worker's results into `inbox`, then the pipe itself once the worker has closed it."""
    while True:
        try:
            inbox.put(conn.recv_bytes())
        except (EOFError, OSError):
            inbox.put(conn)
            return
