"""Tabular instructional notes to small, escaped HTML, with code references turned into links."""
from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from .. import urls

# An ICD-10-CM code as printed in notes: category (3 chars) plus an optional dotted subcode.
_CODE = r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?"
# One pass finds ranges ("A00-A09") first, then single codes with an optional "-"/".-" meaning
# "and its subcodes" ("S78.-", "M97.0-"). The pattern is anchored on an uppercase letter followed
# by a digit, so the scan is linear and cheap even over all 25k notes.
_REF = re.compile(rf"\b({_CODE})(?:-({_CODE})\b|(\.?-)|\b)")


def escape(text: str) -> str:
    """HTML-escape text content (attributes are built from URL paths, which are already quoted)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clean(text: str | None) -> str:
    """Collapses the XML's indentation and tabs into single spaces."""
    return " ".join(text.split()) if text else ""


class NoteLinker:
    """Renders note text as HTML, linking every code reference whose page exists in the code set."""

    def __init__(self, codeset: str, keys: Collection[str]) -> None:
        self.codeset = codeset
        self.keys = keys

    def link(self, key: str, shown: str) -> str:
        return f'<a href="{urls.page_path(self.codeset, key)}">{escape(shown)}</a>'

    def html(self, text: str) -> str:
        """Escaped `text` with code references linked; unknown codes stay plain text."""
        out: list[str] = []
        pos = 0
        keys = self.keys
        for m in _REF.finditer(text):
            first, last, suffix = m.group(1), m.group(2), m.group(3)
            if last is not None:
                whole = f"{first}-{last}"
                if whole in keys:
                    rendered = self.link(whole, whole)
                elif first in keys or last in keys:
                    a = self.link(first, first) if first in keys else escape(first)
                    b = self.link(last, last) if last in keys else escape(last)
                    rendered = f"{a}-{b}"
                else:
                    continue
            elif first in keys:
                rendered = self.link(first, first + (suffix or ""))
            else:
                continue
            out.append(escape(text[pos : m.start()]))
            out.append(rendered)
            pos = m.end()
        if not out:
            return escape(text)
        out.append(escape(text[pos:]))
        return "".join(out)

    def items(self, texts: Iterable[str]) -> str:
        """A `<ul>` of notes."""
        return "<ul>" + "".join(f"<li>{self.html(t)}</li>" for t in texts) + "</ul>"
