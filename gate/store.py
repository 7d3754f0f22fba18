"""The gate's one reader of the protected store (written by generator/store.py): checked lookups,
store errors mapped to `Unavailable`."""
from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from generator.model import CODESET_NAMES
from generator.store import StoredSection, StoreReader

from .db import Unavailable
from .web import BadInput

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,39}$")


class ProtectedStore:
    """Lookups of protected sections for the code sets a site enables."""

    def __init__(self, path: Path, codesets: tuple[str, ...] | list[str]) -> None:
        self.path = path
        self.codesets = frozenset(codesets)
        self.reader = StoreReader(path)
        self._free: frozenset[tuple[str, str]] | None = None
        self._free_version: object = None

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except (OSError, sqlite3.Error) as exc:
            raise Unavailable(f"protected store {self.path}: {exc}") from exc

    def check(self, codeset: str, code: str) -> None:
        """BadInput for an unknown code set or a code that cannot exist (before any lookup)."""
        if codeset not in CODESET_NAMES or codeset not in self.codesets:
            raise BadInput("unknown_codeset", f"There is no code set '{codeset[:40]}'.")
        if not CODE_RE.match(code):
            raise BadInput("unknown_code", f"There is no code '{code[:40]}' in {CODESET_NAMES[codeset]}.")

    def code_json(self, codeset: str, code: str) -> bytes:
        """The page's protected sections as a JSON array; BadInput for unknown code sets or codes
        (keys without a page in the store)."""
        self.check(codeset, code)
        with self._reading():
            data = self.reader.lookup_json(codeset, code)
        if data is None:
            raise BadInput("unknown_code", f"There is no code '{code}' in {CODESET_NAMES[codeset]}.")
        return data

    def is_free(self, codeset: str, code: str) -> bool:
        """Whether the page's sections open without spending a view (a browse page or a
        non-billable header code); the set is read once per store the build brings in."""
        version = self.reader.version
        if version != self._free_version or self._free is None:
            with self._reading():
                self._free = self.reader.free_pages()
            self._free_version = self.reader.version
        return (codeset, code) in self._free

    def sections(self, codeset: str, code: str) -> list[StoredSection]:
        with self._reading():
            return self.reader.sections(codeset, code)

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
        self.reader.close()
