"""HTML helpers shared by the premium sections: escaping, code links, counted collapsible lists."""
from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from html import escape

from ..model import CPT, HCPCS
from ..urls import page_path

# Lists longer than this start closed; short ones are shown open.
OPEN_LIMIT = 30


def esc(value: object) -> str:
    return _esc(str(value))


@functools.lru_cache(maxsize=1 << 16)
def _esc(text: str) -> str:
    # The same few texts (settings, indicator meanings, rationales, modifiers) are escaped on every page.
    return escape(text, quote=True)


def cms_codeset(code: str) -> str | None:
    """The code set of a code number in CMS's files: digits first = CPT, A-V letter first = HCPCS.

    D codes are CDT (dental, ADA) and have no pages here.
    """
    if not code:
        return None
    first = code[0]
    if first.isdigit():
        return CPT
    if "A" <= first <= "V" and first != "D":
        return HCPCS
    return None


class Linker:
    """Links a code to its page only when that page exists.

    One linker serves every page of a build (`linker`): the NCCI lists alone link 6.7 million codes,
    so each code's link is made once."""

    def __init__(self, pages: Mapping[str, Collection[str]]) -> None:
        self.pages = pages
        self._links: dict[str, str] = {}

    def has(self, codeset: str | None, key: str) -> bool:
        return codeset is not None and key in self.pages.get(codeset, ())

    def code(self, code: str, codeset: str | None = None, label: str | None = None) -> str:
        if codeset is None and label is None:
            hit = self._links.get(code)
            if hit is None:
                hit = self._links[code] = self._make(code, None, None)
            return hit
        return self._make(code, codeset, label)

    def codes(self, ordered: list[str], sep: str = " ") -> str:
        """`code(c)` of each code, joined by `sep`: a list of 14,000 codes costs one C-level join."""
        links = self._links
        try:
            return sep.join(map(links.__getitem__, ordered))
        except KeyError:  # a code met for the first time: make every missing link, then join
            for c in ordered:
                if c not in links:
                    links[c] = self._make(c, None, None)
            return sep.join(map(links.__getitem__, ordered))

    def _make(self, code: str, codeset: str | None, label: str | None) -> str:
        cs = codeset or cms_codeset(code)
        text = esc(label or code)
        if cs is not None and self.has(cs, code):
            return f'<a href="{esc(page_path(cs, code))}">{text}</a>'
        return f"<span>{text}</span>"  # one element per code either way: CSS lays codes out as cells


Pages = Mapping[str, Collection[str]]


def linker(pages: Pages | Linker) -> Linker:
    """The linker of `pages` (a page-by-page build passes one linker for all its pages)."""
    return pages if isinstance(pages, Linker) else Linker(pages)


def source(text: str) -> str:
    return f'<p class="premium-source">Source: {esc(text)}</p>'


def details(summary: str, body: str, count: int | None, *, open_: bool | None = None) -> str:
    """A <details> block, counted unless `count` is None; `summary` is already HTML."""
    is_open = (count or 0) <= OPEN_LIMIT if open_ is None else open_
    attr = " open" if is_open else ""
    counted = "" if count is None else f' <span class="count">({count:,})</span>'
    return f"<details{attr}><summary>{summary}{counted}</summary>{body}</details>"


def code_list(items: str) -> str:
    """A block of codes (`items`: HTML already, links or text separated by spaces, see
    `Linker.codes`), which CSS lays out as a grid: NCCI lists run to 14,000 codes, as one row each
    they were 500 screens and 40 bytes a code."""
    return f'<p class="codes">{items}</p>'


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def money(value: float) -> str:
    return f"${value:,.2f}"


def num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}"
