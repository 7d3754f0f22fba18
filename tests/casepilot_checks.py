"""Checks of CasePilot answers against the question set and against the data of the pages they cite."""

from __future__ import annotations

import html as htmllib
import re
import sqlite3
from pathlib import Path
from typing import Any

import yaml
from conftest import DATA

from gate.assistant.claims import unsupported
from generator.casepilot_pages import example_questions
from generator.store_reader import StoreReader
from generator.urls import file_for

QUESTIONS = DATA / "casepilot_questions.yml"


def question_set() -> list[dict[str, Any]]:
    return list(yaml.safe_load(QUESTIONS.read_text(encoding="utf-8")))


def _plain(markup: str) -> str:
    return htmllib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup)))


class CitedData:
    """The data behind a citation, read independently of the assistant: the built page (public text), the
    protected store's sections of a code page, or the LCD list's row of a CMS coverage document."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = StoreReader(root / "var" / "protected.sqlite")
        self.facts = sqlite3.connect(root / "var" / "assistant.sqlite")
        self._cache: dict[str, str] = {}

    def text(self, url: str) -> str:
        hit = self._cache.get(url)
        if hit is not None:
            return hit
        if url.startswith("https://www.cms.gov/"):
            rows = self.facts.execute(
                "SELECT id, type, title, contractor, effective, retired, version, updated"
                " FROM lcd WHERE url=?",
                (url,),
            ).fetchall()
            release = self.facts.execute("SELECT release FROM sources WHERE kind='lcd'").fetchone()
            found = " ".join(" ".join(map(str, r)) for r in rows) + (f" {release[0]}" if release else "")
        else:
            path = url.split("#")[0]
            page = self.root / "site" / file_for(path)
            found = _plain(page.read_text(encoding="utf-8")) if page.is_file() else ""
            parts = path.strip("/").split("/")
            if len(parts) == 2 and parts[0] in ("icd-10-cm", "icd-10-pcs", "cpt", "hcpcs"):
                found += " " + " ".join(_plain(s.html) for s in self.store.sections(parts[0], parts[1]))
        self._cache[url] = found
        return found

    def close(self) -> None:
        self.store.close()
        self.facts.close()


def problems(case: dict[str, Any], body: dict[str, Any], cited: CitedData) -> list[str]:
    """What is wrong with one answer (empty when it passes)."""
    out: list[str] = []
    text = body["answer"]["text"]
    topic = body.get("topic")
    if topic != case["topic"]:
        out.append(f"answered as {topic}, expected {case['topic']}")
    for fact in case.get("has", []):
        if fact not in text:
            out.append(f"lacks {fact!r}")
    urls = [c["url"] for c in body["citations"]]
    for want in case.get("cites", []):
        if not any(
            u == want or u.startswith(want + "#") or (want.endswith("/") and u.startswith(want)) for u in urls
        ):
            out.append(f"does not cite {want}")
    evidence = case["q"] + " " + " ".join(cited.text(u) for u in urls)
    if body.get("kind") == "unknown":
        evidence += " " + " ".join(example_questions())
    missing = unsupported(text, evidence)
    if missing:
        out.append(f"states codes or figures its cited pages do not hold: {sorted(missing)}")
    return out
