"""Reading CMS tables: open (gzip too), sniff encoding and delimiter, find columns by header name."""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import operator
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from ..errors import BuildError

# Longest header block we look for (CMS spreads some headers over two or three lines).
MAX_HEADER_LINES = 3
# Lines before the header that CMS puts copyright notices on.
MAX_PREAMBLE_LINES = 40

csv.field_size_limit(1 << 24)


def norm(name: str) -> str:
    """Header names compare without case, spacing or punctuation: 'Column 1' == 'column1'."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass(frozen=True, slots=True)
class Column:
    """A column the importer needs: a name for messages and the header spellings it accepts."""

    name: str
    aliases: tuple[str, ...]
    required: bool = True
    contains: bool = False  # also accept a header that merely contains an alias ("2024 PW GPCI")


def open_bytes(path: Path) -> BinaryIO:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def sniff_encoding(path: Path) -> str:
    """UTF-8 when the first megabyte decodes as UTF-8, else Windows-1252 (what CMS writes)."""
    with open_bytes(path) as fh:
        head = fh.read(1 << 20)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)  # a character cut at the 1 MB mark is fine
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def open_text(path: Path, encoding: str | None = None) -> TextIO:
    enc = encoding or sniff_encoding(path)
    # newline="" lets csv see CRLF; "replace" keeps a stray byte from stopping a 2-million-row import.
    return io.TextIOWrapper(open_bytes(path), encoding=enc, errors="replace", newline="")


def _split(line: str, delim: str) -> list[str]:
    # Spreadsheet exports quote tab-separated cells too: """y set"" tubing" is `"y set" tubing`.
    # Lines without a quote (all of NCCI's millions) keep the fast plain split.
    if delim == "," or '"' in line:
        return next(csv.reader([line], delimiter=delim), [])
    return line.split(delim)


def _sniff_delimiter(lines: Sequence[str]) -> str:
    tabs = sum(line.count("\t") for line in lines)
    commas = sum(line.count(",") for line in lines)
    pipes = sum(line.count("|") for line in lines)
    best = max((tabs, "\t"), (commas, ","), (pipes, "|"))
    return best[1]


def _match(headers: list[str], columns: Sequence[Column]) -> dict[str, int]:
    """Column name -> index: exact names first, then prefixes, then (where allowed) containment."""
    normed = [norm(h) for h in headers]
    found: dict[str, int] = {}
    taken: set[int] = set()
    for mode in ("exact", "prefix", "contains"):
        for col in columns:
            if col.name in found or (mode == "contains" and not col.contains):
                continue
            for alias in col.aliases:
                hit = next(
                    (
                        i for i, h in enumerate(normed)
                        if i not in taken and h and (
                            h == alias if mode == "exact"
                            else h.startswith(alias) if mode == "prefix"
                            else alias in h
                        )
                    ),
                    None,
                )
                if hit is not None:
                    found[col.name] = hit
                    taken.add(hit)
                    break
    return found


def _join(rows: Sequence[list[str]]) -> list[str]:
    width = max(len(r) for r in rows)
    return [" ".join(r[i].strip() for r in rows if i < len(r) and r[i].strip()) for i in range(width)]


class Table:
    """A delimited CMS file whose header has been found; iterate `rows()` for (line, cells)."""

    def __init__(self, path: Path, columns: Sequence[Column], what: str) -> None:
        self.path = path
        self.what = what
        self._fh = open_text(path)
        head: list[str] = []
        for _ in range(MAX_PREAMBLE_LINES + MAX_HEADER_LINES):
            line = self._fh.readline()
            if not line:
                break
            head.append(line.rstrip("\r\n"))
        if not any(h.strip() for h in head):
            self._fh.close()
            raise BuildError(f"{path}: the file is empty; expected {what}")
        self.delim = _sniff_delimiter(head)
        split = [_split(h, self.delim) for h in head]
        best: tuple[int, dict[str, int], list[str]] = (-1, {}, [])
        required = [c for c in columns if c.required]
        for depth in range(1, MAX_HEADER_LINES + 1):
            for start in range(len(split) - depth + 1):
                block = split[start:start + depth]
                if not any(c.strip() for c in block[0]):
                    continue
                headers = _join(block)
                found = _match(headers, columns)
                score = sum(1 for c in required if c.name in found)
                if score > best[0]:
                    best = (score, found, headers)
                if score == len(required):
                    # CMS spreads some headers over lines below ("prior to 1996", "Date"): a line whose
                    # key column is blank is still header, never data.
                    key = found[required[0].name] if required else 0
                    end = start + depth
                    while end < len(split) and end - start < MAX_HEADER_LINES + 1 and any(
                        c.strip() for c in split[end]
                    ) and (key >= len(split[end]) or not split[end][key].strip()):
                        end += 1
                    if end > start + depth:
                        headers = _join(split[start:end])
                        found = _match(headers, columns)
                    self.index = found
                    self.headers = headers
                    self._pending = head[end:]
                    self.header_line = end  # 1-based line number of the header's last line
                    return
        self._fh.close()
        missing = [c.name for c in required if c.name not in best[1]]
        shown = ", ".join(repr(h) for h in best[2] if h) or "none"
        raise BuildError(
            f"{path}: not {what}: missing column{'s' if len(missing) != 1 else ''} "
            f"{', '.join(repr(m) for m in missing)} (header names are matched without case, spaces "
            f"or punctuation; closest header found: {shown})"
        )

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Yields (1-based line number, cells) for every non-blank data line."""
        lineno = self.header_line
        try:
            def lines() -> Iterator[str]:
                yield from (p + "\n" for p in self._pending)
                yield from self._fh

            if self.delim == ",":
                reader = csv.reader(lines())
                for cells in reader:
                    lineno = self.header_line + reader.line_num
                    if cells and any(c.strip() for c in cells):
                        yield lineno, cells
            else:
                d = self.delim
                for raw in lines():
                    lineno += 1
                    raw = raw.rstrip("\r\n")
                    if raw.strip():
                        yield lineno, _split(raw, d)
        finally:
            self._fh.close()

    def text_blocks(self, size: int) -> Iterator[str]:
        """The data lines as blocks of about `size` characters, each of whole lines without the line
        end after the last one (blank lines kept), for readers that split many lines at once."""
        try:
            buf = "".join(p + "\n" for p in self._pending)
            while chunk := self._fh.read(size):
                buf += chunk
                cut = buf.rfind("\n")
                if cut >= 0:
                    yield buf[:cut]
                    buf = buf[cut + 1:]
            if buf:  # the last line, or the lines read with the header when the file ends there
                yield buf.removesuffix("\n")
        finally:
            self._fh.close()

    def get(self, cells: list[str], name: str) -> str:
        i = self.index.get(name)
        if i is None or i >= len(cells):
            return ""
        return cells[i].strip()

    def getter(self, names: Sequence[str]) -> Callable[[list[str]], tuple[str, ...]]:
        """What `get` gives for each of `names`, as one function of a row's cells: a file of a million
        cells read through `get` spent most of its time in it."""
        at = [self.index.get(n) for n in names]
        if len(at) < 2 or None in at:
            return lambda cells: tuple(self.get(cells, n) for n in names)
        idx = [i for i in at if i is not None]
        width = max(idx) + 1
        pick = operator.itemgetter(*idx)
        pad = [""] * width

        def cells_of(cells: list[str]) -> tuple[str, ...]:
            if len(cells) < width:
                cells = [*cells, *pad[len(cells):]]
            return tuple(map(str.strip, pick(cells)))

        return cells_of

    def close(self) -> None:
        self._fh.close()


def parse_date(value: str) -> int | None:
    """CMS dates (YYYYMMDD, YYYY-MM-DD, MM/DD/YYYY) as an int YYYYMMDD; blank or '*' -> None."""
    v = value.strip()
    if not v or v == "*":
        return None
    m = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})", v)
    if m:
        return int(m[1] + m[2] + m[3])
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", v)
    if m:
        return int(f"{m[3]}{int(m[1]):02d}{int(m[2]):02d}")
    raise ValueError(f"'{value}' is not a date (expected YYYYMMDD, YYYY-MM-DD or MM/DD/YYYY)")


def show_date(value: int | None) -> str:
    if value is None:
        return ""
    s = f"{value:08d}"
    return f"{s[:4]}-{s[4:6]}-{s[6:]}"


CODE_RE = re.compile(r"^[0-9A-Z]{4}[0-9A-Z]$")


def clean_code(value: str) -> str:
    return value.strip().upper()
