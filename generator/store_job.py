"""The store stage: a fresh protected store written beside the live one, committed with the build."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .store import StoreRow, StoreWriter


class StoreJob:
    """Writes a fresh protected store beside the live one, from rows streamed in as pages render.

    `add(rows)` takes the rows of each chunk of pages as it arrives (the render loop's parent
    process is otherwise idle while its workers render), so no process ever holds every row;
    `finish(free)` ends the write. `commit()` renames it into place; `abort()` removes the
    unfinished file. (The interface of every `build.Pending` job.)
    """

    def __init__(self, path: Path, meta: dict[str, str]) -> None:
        self.path = path
        self.meta = meta
        self.state = "new"  # -> "writing" (first rows) -> "finished" -> "committed", or "aborted"
        # Opened with the first rows, after the render workers were forked: no child inherits
        # an open SQLite connection.
        self.writer: StoreWriter | None = None

    def _open(self) -> StoreWriter:
        if self.state not in ("new", "writing"):
            raise RuntimeError(f"store rows written to a {self.state} store")
        if self.writer is None:
            self.writer = StoreWriter(self.path, fresh=True)
            self.state = "writing"
        return self.writer

    def add(self, rows: list[StoreRow]) -> None:
        self._open().add_many(rows)

    def finish(self, free: list[tuple[str, str]], code_pages: Sequence[tuple[str, str]] = ()) -> None:
        """Records the pages that open without spending a view (generator/free.py), the code pages
        premium sections link to, and the meta, and commits the write (the store is not live before
        `commit()`)."""
        writer = self._open()
        writer.mark_free(free)
        writer.add_code_pages(code_pages)
        for key, value in self.meta.items():
            writer.set_meta(key, value)
        self.writer, self.state = None, "finished"
        try:
            writer.finish()
        except BaseException:
            writer.abort()
            raise

    def commit(self) -> None:
        if self.state != "finished":
            raise RuntimeError(f"a {self.state} store committed (finish() it first)")
        StoreWriter.published(self.path)
        self.state = "committed"

    def abort(self) -> None:
        writer, self.writer, self.state = self.writer, None, "aborted"
        if writer is not None:
            writer.abort()
        StoreWriter.discard(self.path)


def replace_rows(path: Path, rows: list[StoreRow], meta: dict[str, str] | None = None) -> None:
    """Replaces the rows of a few code pages (and the `meta` given) in the live store, in one
    transaction (the fast paths)."""
    store = StoreWriter(path, fresh=False)
    try:
        for codeset, key, title, sections in rows:
            store.replace_packed(codeset, key, title, sections)
        for k, v in (meta or {}).items():
            store.set_meta(k, v)
        store.commit()
    except BaseException:
        store.abort()
        raise
