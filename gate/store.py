"""The gate's one reader of the protected store (written by generator/store.py): checked lookups,
premium sections rendered on demand off the event loop, store and snapshot errors mapped to
`Unavailable` (a 503 with Retry-After)."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from generator.model import CODESET_NAMES
from generator.premium.ondemand import OnDemand, SnapshotMismatch
from generator.store import Entry, StoredSection
from generator.store_reader import StoreReader

from .db import Unavailable
from .web import BadInput

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,39}$")
T = TypeVar("T")
log = logging.getLogger("coderef.gate")


class ProtectedStore:
    """Lookups of protected sections for the code sets a site enables."""

    def __init__(self, path: Path, codesets: tuple[str, ...] | list[str]) -> None:
        self.path = path
        self.codesets = frozenset(codesets)
        self.reader = StoreReader(path)
        self._free: frozenset[tuple[str, str]] | None = None
        self._free_version: object = None
        # Premium sections are rendered in one thread of their own, one at a time (the renderer's
        # sources are not made for concurrent use), queued there rather than on the loop's executor.
        # Made when first needed, and again after `close` (an app served again, as tests do).
        self._renders: ThreadPoolExecutor | None = None

    def _render_thread(self) -> ThreadPoolExecutor:
        if self._renders is None:
            self._renders = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coderef-premium")
        return self._renders

    async def _off_loop(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._render_thread(), work)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except (OSError, sqlite3.Error, SnapshotMismatch) as exc:
            raise Unavailable(f"protected store {self.path}: {exc}") from exc

    def check(self, codeset: str, code: str) -> None:
        """BadInput for an unknown code set or a code that cannot exist (before any lookup)."""
        if codeset not in CODESET_NAMES or codeset not in self.codesets:
            raise BadInput("unknown_codeset", f"There is no code set '{codeset[:40]}'.")
        if not CODE_RE.match(code):
            raise BadInput("unknown_code", f"There is no code '{code[:40]}' in {CODESET_NAMES[codeset]}.")

    def entry(self, codeset: str, code: str) -> Entry:
        """The page's row, nothing rendered (what the meter checks before a view is spent); BadInput
        for unknown code sets or codes (keys without a page in the store)."""
        self.check(codeset, code)
        with self._reading():
            found = self.reader.entry(codeset, code)
        if found is None:
            raise BadInput("unknown_code", f"There is no code '{code}' in {CODESET_NAMES[codeset]}.")
        return found

    def warm(self) -> None:
        """Starts opening the CMS snapshots of the live store in the render thread (0.7-1.7 s), so
        the first unlock after the gate starts does not wait for it. Nothing to do without a store
        yet; a failure is logged here and raised again, as a 503, by the unlock that needs it."""
        try:
            with self._reading():
                renderer = self.reader.renderer()
        except Unavailable as exc:
            log.info("premium sections: nothing to open ahead of the first unlock (%s)", exc)
            return
        self._render_thread().submit(self._open_ahead, renderer)

    @staticmethod
    def _open_ahead(renderer: OnDemand) -> None:
        try:
            renderer.open()
        except Exception as exc:  # the unlock that needs it tries again and answers 503
            log.warning("premium sections: opening the CMS snapshots failed: %s", exc)

    async def prepare(self, entry: Entry) -> None:
        """Opens the CMS snapshots the entry's premium sections are rendered from (once per store, in
        a worker thread): a missing or broken snapshot is `Unavailable` before any view is spent."""
        if not entry.needs_render:
            return
        with self._reading():
            renderer = self.reader.renderer()
            if not renderer.is_open:
                await self._off_loop(renderer.open)

    async def answer(self, entry: Entry) -> bytes:
        """The entry's sections as the JSON array the gate answers with: its premium sections
        rendered in a worker thread (the busiest NCCI codes take tens of milliseconds), then kept in
        the reader's cache of answers."""
        if entry.json is not None:
            return entry.json
        with self._reading():
            renderer = self.reader.renderer()
            data = await self._off_loop(lambda: self.reader.render(entry, renderer))
        self.reader.remember(entry.codeset, entry.key, data, entry.version)
        return data

    async def code_json(self, codeset: str, code: str) -> bytes:
        """The page's protected sections as a JSON array (rendered if need be); BadInput for unknown
        code sets or codes."""
        found = self.entry(codeset, code)
        await self.prepare(found)
        return await self.answer(found)

    def is_free(self, codeset: str, code: str) -> bool:
        """Whether the page's sections open without spending a view (a browse page or a
        non-billable header code); the set is read once per store the build brings in."""
        version = self.reader.version
        if version != self._free_version or self._free is None:
            with self._reading():
                self._free = self.reader.free_pages()
            self._free_version = self.reader.version
        return (codeset, code) in self._free

    async def sections(self, codeset: str, code: str) -> list[StoredSection]:
        data = await self.code_json(codeset, code)
        return [StoredSection(s["id"], s["title"], s["html"]) for s in json.loads(data)]

    def title(self, codeset: str, code: str) -> str | None:
        with self._reading():
            return self.reader.code_title(codeset, code)

    @property
    def version(self) -> object:
        """The store file's identity as of the last read (a build may bring a new one in)."""
        return self.reader.version

    def remember(self, codeset: str, code: str, data: bytes, version: object) -> None:
        self.reader.remember(codeset, code, data, version)

    def close(self) -> None:
        if self._renders is not None:
            self._renders.shutdown(wait=True)
            self._renders = None
        self.reader.close()
