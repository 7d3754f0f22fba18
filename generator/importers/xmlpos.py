"""Line numbers of XML elements for error messages (ElementTree keeps none, so re-scan on error only)."""
from __future__ import annotations

import gzip
import xml.parsers.expat
from pathlib import Path
from typing import IO


class _Found(Exception):
    pass


def open_maybe_gzip(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed when it is gzip'd (a ".xml.gz" copy of the CDC file)."""
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def element_line(path: Path, tag: str, nth: int) -> int:
    """1-based line of the `nth` (1-based) start tag `<tag>` in document order; 0 if not found."""
    parser = xml.parsers.expat.ParserCreate()
    seen = 0
    line = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal seen, line
        if name == tag:
            seen += 1
            if seen == nth:
                line = parser.CurrentLineNumber
                raise _Found

    parser.StartElementHandler = start
    try:
        with open_maybe_gzip(path) as f:
            parser.ParseFile(f)
    except _Found:
        pass
    except (xml.parsers.expat.ExpatError, OSError):
        return 0
    return line
