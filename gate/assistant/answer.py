"""CasePilot's Python API: `CasePilot.answer(question, context) -> Answer` (sync) and `answer_async`.

Used by the gate's /gate/ask and by the mail consultant (#14). The deterministic answer is always
computed; with a language model configured (see `llm.py`) the model may re-phrase it from the same
tool results, and its text is used only when it passes the checks there.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .compose import respond
from .doc import Citation, Doc
from .facts import FactsReader
from .llm import ModelClient, ModelSettings
from .understand import clean, parse

MAX_QUESTION = 500


class BadQuestion(ValueError):
    """A question that cannot be asked: `code` is "empty" or "too_long"; the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Answer:
    html: str  # escaped HTML (paragraphs, lists, links to the cited pages)
    text: str  # the same as plain text
    citations: list[Citation]
    topic: str  # the capability that answered: code, ncci, mue, payment, addon, modifier, crosswalk, find, …
    kind: str = "answer"  # "answer", "unknown" (I don't know), "ambiguous" (asks which code set), "no_code"
    model: str | None = None  # the language model that phrased the text, when one did
    tools: list[dict[str, Any]] = field(default_factory=list, repr=False)  # what the model was given

    def as_json(self) -> dict[str, Any]:
        return {"html": self.html, "text": self.text}


def check_question(question: object) -> str:
    """The cleaned question, or BadQuestion (empty, over 500 characters, not text)."""
    if not isinstance(question, str):
        raise BadQuestion("empty", "Ask a question in words.")
    if len(question) > MAX_QUESTION:
        raise BadQuestion("too_long", f"Questions are limited to {MAX_QUESTION} characters; shorten it.")
    text = clean(question)
    if not text or not any(c.isalnum() for c in text):
        raise BadQuestion("empty", "Ask a question in words, e.g. 'What is CPT code 99213?'.")
    return text


class CasePilot:
    """The assistant over one project's built facts (`var/assistant.sqlite`)."""

    def __init__(self, facts_path: Path, model: ModelSettings | None = None) -> None:
        self.reader = FactsReader(facts_path)
        self.model = ModelClient(model) if model is not None else None
        self._lock = threading.Lock()  # the facts connections are shared: one question at a time

    def deterministic(self, question: str, context: str | None = None) -> Answer:
        text = check_question(question)
        q = parse(text, context)
        with self._lock:
            facts = self.reader.current()
            topic, doc = respond(facts, q)
        return _answer(topic, doc)

    def answer(self, question: str, context: str | None = None) -> Answer:
        """The answer to one question (`context`: the page it was asked on, e.g. "cpt/27252")."""
        base = self.deterministic(question, context)
        if self.model is None:
            return base
        return self.model.phrase_sync(question, base)

    async def answer_async(self, question: str, context: str | None = None) -> Answer:
        base = self.deterministic(question, context)
        if self.model is None:
            return base
        return await self.model.phrase(question, base)

    async def aclose(self) -> None:
        if self.model is not None:
            await self.model.aclose()
        self.reader.close()

    def close(self) -> None:
        self.reader.close()


def _answer(topic: str, doc: Doc) -> Answer:
    return Answer(html=doc.html(), text=doc.text(), citations=list(doc.citations), topic=topic, kind=doc.kind)
