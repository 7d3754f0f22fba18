"""The instant first answer to a question: the `FirstAnswerer` seam, and the search answer.

`FirstAnswerer` is any callable from the question's text to a `FirstAnswer`. CasePilot answers
where the site has it (`pilot.PilotAnswerer`); `SearchAnswerer` answers with the code pages the
site has for the codes named in the question and for its main words (code titles from the
protected store's index of pages) — on a site with CasePilot switched off, and beside CasePilot's
"I don't know".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from generator.config import SiteConfig
from generator.model import CODESET_NAMES
from generator.store_reader import StoreReader
from generator.urls import absolute, page_path

# Candidate codes as coders write them: ICD-10-CM (with or without the dot), ICD-10-PCS (7
# characters), CPT (5 digits, or 4 + F/T/U), HCPCS Level II (a letter and 4 digits).
_CODE = re.compile(
    r"\b([A-TV-Z][0-9][0-9AB](?:\.?[0-9A-Z]{1,4})?|[0-9A-HJ-NP-Z]{7}|[0-9]{4}[0-9FTU]|[A-V][0-9]{4})\b"
)
_WORD = re.compile(r"[A-Za-z][a-z]{3,}")
_STOP_TEXT = (
    "about after again also because been before being between both code codes coding could does doing "
    "each from have here into just like make many more most much must need only other over same should "
    "since some such than that their them then there these they this those through under very want were "
    "what when where which while will with would your patient question thanks thank hello please claim "
    "billed bill using used"
)
STOPWORDS = frozenset(_STOP_TEXT.split())


@dataclass(frozen=True)
class Source:
    """A page the answer cites, by absolute URL (the answer travels by mail)."""

    title: str
    url: str
    release: str = ""


@dataclass(frozen=True)
class FirstAnswer:
    text: str  # the answer's body, plain text, its sources listed with their absolute URLs
    sources: list[Source]
    by: str  # what produced it: "casepilot", "search" or "error"


class FirstAnswerer(Protocol):
    def __call__(self, question: str) -> FirstAnswer: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class _Hit:
    codeset: str
    code: str
    title: str
    url: str


def codes_in(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for m in _CODE.finditer(text.upper()):
        seen.setdefault(m.group(1), None)
    return list(seen)[:20]


def words_in(text: str, limit: int = 3) -> list[str]:
    """The question's longest uncommon words (a crude but honest topic guess)."""
    words = {w.lower() for w in _WORD.findall(text)} - STOPWORDS
    return sorted(words, key=lambda w: (-len(w), w))[:limit]


class SearchAnswerer:
    """Finds the code pages for the codes and words in a question."""

    def __init__(self, site: SiteConfig, store: StoreReader) -> None:
        self.site = site
        self.store = store

    def _code(self, raw: str) -> _Hit | None:
        for codeset in self.site.codesets:
            keys = [raw]
            if codeset == "icd-10-cm" and "." not in raw and len(raw) > 3:
                keys.append(f"{raw[:3]}.{raw[3:]}")
            for key in keys:
                title = self.store.code_title(codeset, key)
                if title is not None:
                    return _Hit(codeset, key, title, absolute(self.site.base_url, page_path(codeset, key)))
        return None

    def find(self, question: str) -> list[_Hit]:
        found = [s for s in (self._code(c) for c in codes_in(question)) if s is not None]
        words = words_in(question)
        while words and len(found) < 8:
            rows = self.store.titles_matching(words, self.site.codesets, 8 - len(found))
            known = {(s.codeset, s.code) for s in found}
            found += [
                _Hit(cs, k, t, absolute(self.site.base_url, page_path(cs, k)))
                for cs, k, t in rows
                if (cs, k) not in known
            ]
            if rows:
                break
            words = words[:-1]  # nothing has all of them: try with fewer
        return found

    def __call__(self, question: str) -> FirstAnswer:
        hits = self.find(question)
        if hits:
            lines = [f"- {h.code} ({CODESET_NAMES[h.codeset]}): {h.title}\n  {h.url}" for h in hits]
            text = "These code pages on our site match the codes and words in your question:\n\n" + "\n".join(
                lines
            )
        else:
            text = (
                "Our search found no code page for the codes or words in your question. "
                "If you named a code, check that it is written as printed (for example S72.001A or 27252)."
            )
        sources = [Source(f"{CODESET_NAMES[h.codeset]} {h.code} — {h.title}", h.url) for h in hits]
        return FirstAnswer(text, sources, "search")

    def close(self) -> None:
        self.store.close()
