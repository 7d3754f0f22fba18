"""The instant first answer from CasePilot: its answer to the mailed question with its sources as
absolute links, and — when it does not know — that it does not, with the pages our search finds."""

from __future__ import annotations

import logging
import re

from generator.urls import absolute

from ..assistant.answer import MAX_QUESTION, Answer, BadQuestion, CasePilot
from ..assistant.facts import FactsMissing
from ..assistant.understand import clean
from .answers import FirstAnswer, SearchAnswerer, Source

# What CasePilot answers from, for the mail that says it does not know (the asker never saw the box).
_SCOPE = (
    "the official code sets, the CMS NCCI, MUE, fee schedule, GEM and coverage files, and our coding guides"
)
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
log = logging.getLogger("coderef.consult")


def pilot_question(text: str, limit: int = MAX_QUESTION) -> tuple[str, bool]:
    """The question as CasePilot reads it, and whether it had to be shortened to fit its `limit`.

    A mail often carries a story around its question: past the limit, the sentences that ask
    (end in "?") are kept, in order, as many as fit; without any, the first sentences that fit.
    """
    flat = clean(text)
    if len(flat) <= limit:
        return flat, False
    sentences = [s for s in _SENTENCE_END.split(flat) if s]
    asks = [s for s in sentences if s.endswith("?")] or sentences
    kept = ""
    for s in asks:
        if len(kept) + 1 + len(s) > limit:
            break
        kept = f"{kept} {s}".strip()
    if not kept:  # one sentence longer than the limit: its first words
        kept = asks[0][:limit].rsplit(" ", 1)[0]
    return kept, True


class PilotAnswerer:
    """A `FirstAnswerer` that asks CasePilot; `search` lists pages beside an "I don't know"."""

    def __init__(self, pilot: CasePilot, search: SearchAnswerer, base_url: str) -> None:
        self.pilot = pilot
        self.search = search
        self.base_url = base_url

    def __call__(self, question: str) -> FirstAnswer:
        asked, shortened = pilot_question(question)
        read_as = f"CasePilot read your question as: \u201c{asked}\u201d\n\n" if shortened else ""
        try:
            answer = self.pilot.answer(asked)
        except BadQuestion:  # no words to read (an attachment alone, say)
            found = self.search(question)
            return FirstAnswer(
                "CasePilot, our coding assistant, found no question in words to answer.\n\n" + found.text,
                found.sources,
                "search",
            )
        except FactsMissing as exc:  # the site was never built with CasePilot: the operator must see it
            log.error("consult: CasePilot cannot answer (%s); the first answer lists search pages", exc)
            found = self.search(question)
            return FirstAnswer(
                "CasePilot, our coding assistant, could not answer this time.\n\n" + found.text,
                found.sources,
                "search",
            )
        if answer.kind == "unknown":
            found = self.search(question)
            text = (
                f"{read_as}CasePilot, our coding assistant, does not know the answer: it found nothing in "
                f"{_SCOPE} that answers your question. The consultant's reply will.\n\n{found.text}"
            )
            return FirstAnswer(text, found.sources, "casepilot")
        sources = self._sources(answer)
        text = read_as + answer.text
        if sources:
            text += "\n\nSources:\n" + "\n".join(
                f"- {s.title}{f' ({s.release})' if s.release else ''}\n  {s.url}" for s in sources
            )
        if answer.kind == "no_code":  # a code we do not have: the pages that match its words may help
            found = self.search(question)
            text += "\n\n" + found.text
            sources += [s for s in found.sources if s not in sources]
        return FirstAnswer(text, sources, "casepilot")

    def _sources(self, answer: Answer) -> list[Source]:
        return [
            Source(c.title, absolute(self.base_url, c.url) if c.url.startswith("/") else c.url, c.release)
            for c in answer.citations
        ]

    def close(self) -> None:
        self.pilot.close()
        self.search.close()
