"""The store stage: a fresh protected store written beside the live one, committed with the build."""
from __future__ import annotations

from pathlib import Path

from . import forking
from .store import StoreRow, StoreWriter


class StoreJob:
    """Writes a fresh protected store beside the live one, in a forked child when `jobs` > 1.

    `commit()` waits for it and renames it into place; if the child failed, the store is
    written here instead, so that a real error is raised with its message. `abort()` stops the
    child and removes the unfinished file. (The interface of every `build.Pending` job.)
    """

    def __init__(self, path: Path, rows: list[StoreRow], meta: dict[str, str], jobs: int,
                 free: list[tuple[str, str]] | None = None) -> None:
        self.path = path
        self.rows = rows
        self.free = free or []  # pages that open without spending a view (generator/free.py)
        self.meta = meta
        self.pid = forking.start(self._write) if jobs > 1 and forking.can_fork() else None

    def _write(self) -> StoreWriter:
        writer = StoreWriter(self.path, fresh=True)
        try:
            writer.add_many(self.rows)
            writer.mark_free(self.free)
            for key, value in self.meta.items():
                writer.set_meta(key, value)
            writer.finish()
        except BaseException:
            writer.abort()
            raise
        return writer

    def commit(self) -> None:
        ok = self.pid is not None and forking.succeeded(self.pid)
        self.pid = None  # reaped (an interrupt while waiting leaves it to abort())
        if ok:
            StoreWriter.published(self.path)
        else:
            self._write().publish()

    def abort(self) -> None:
        pid, self.pid = self.pid, None
        if pid is not None:
            forking.stop(pid)
        StoreWriter.discard(self.path)


def replace_rows(path: Path, rows: list[StoreRow]) -> None:
    """Replaces the rows of a few code pages in the live store, in one transaction (the fast path)."""
    store = StoreWriter(path, fresh=False)
    try:
        for codeset, key, title, sections in rows:
            store.replace_packed(codeset, key, title, sections)
        store.commit()
    except BaseException:
        store.abort()
        raise
