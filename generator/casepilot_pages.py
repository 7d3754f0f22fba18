"""Build stage: CasePilot's public pages — `/casepilot/` (examples per topic) and the guides (`/guides/`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from . import content_cache, urls
from .errors import BuildError, Problems
from .link import CodeSetModel
from .render import Ctx
from .theme import SiteFile, Theme

# The example questions of /casepilot/, by topic (each one is answered by the data, and tested).
TOPICS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("codes", "CPT Codes", ("What is CPT code 99213?", "What does E11.65 mean?", "Is S72.001 billable?")),
    (
        "guidelines",
        "Guidelines",
        ("Guidelines for E/M services", "What is a placeholder X?", "When do I use code first?"),
    ),
    (
        "modifiers",
        "Modifiers",
        ("What does modifier 59 mean?", "When do I use modifier 25?", "What is modifier XS?"),
    ),
    ("crosswalks", "Crosswalks", ("ICD-9 code for E11.9", "ICD-10 for 250.00", "Code for a broken wrist")),
    (
        "ncci",
        "NCCI Edits",
        (
            "Can 99213 and 93000 be billed together?",
            "How many units of J1100 can I bill?",
            "Is 99417 an add-on code?",
        ),
    ),
    (
        "compliance",
        "Compliance",
        (
            "What does NCCI modifier indicator 1 mean?",
            "Primary codes for 11045",
            "What is an MUE adjudication indicator?",
        ),
    ),
    (
        "coverage",
        "Medicare Coverage",
        (
            "Is there an LCD for cardiac rehabilitation?",
            "What does Medicare pay for 99214 in Manhattan?",
            "Global days for 27130",
        ),
    ),
)


def example_questions() -> list[str]:
    return [q for _, _, qs in TOPICS for q in qs]


def casepilot_pages(theme: Theme, models: Mapping[str, CodeSetModel]) -> Iterator[SiteFile]:
    """The site stage of /casepilot/, /guides/ and each guide; nothing when CasePilot is off.

    The guides were read and checked with the build's inputs (`inputs.load_inputs`); a guide that
    fails here was changed during the build."""
    del models
    cfg = theme.cfg
    if not cfg.assistant.enabled:
        return
    problems = Problems()
    guides = content_cache.guides(cfg, problems)
    if problems.errors:
        raise BuildError(f"{problems.errors[0]} (a guide changed while the site was built)")
    topics = [Ctx({"slug": s, "name": n, "examples": list(qs)}) for s, n, qs in TOPICS]
    yield theme.page("casepilot.html", urls.CASEPILOT, "CasePilot — coding assistant", topics=topics)
    yield theme.page("guides.html", urls.GUIDES, "Coding guides", guides=guides)
    for g in guides:
        yield theme.page("guide.html", g.url, g.title, guide=g)
