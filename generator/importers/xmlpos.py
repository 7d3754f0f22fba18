"""Line numbers of XML elements for error messages (ElementTree keeps none, so re-scan on error only)."""
from __future__ import annotations

import xml.parsers.expat
from pathlib import Path


class _Found(Exception):
    pass


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
        with open(path, "rb") as f:
            parser.ParseFile(f)
    except _Found:
        pass
    except (xml.parsers.expat.ExpatError, OSError):
        return 0
    return line
