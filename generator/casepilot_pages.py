"""Build stage: CasePilot's public pages — `/casepilot/` (examples per topic) and the guides (`/guides/`)."""

from __future__ import annotations

from typing import Any

import jinja2

from . import urls
from .config import SiteConfig
from .guides import Guide
from .pages import common
from .render import Assets, Ctx

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


def casepilot_pages(
    cfg: SiteConfig, env: jinja2.Environment, site: dict[str, Any], assets: Assets, guides: list[Guide]
) -> list[tuple[str, bytes]]:
    """(relative path, bytes) of /casepilot/, /guides/ and each guide; nothing when CasePilot is off."""
    out: list[tuple[str, bytes]] = []
    if not cfg.assistant.enabled:
        return out
    ctx = common(cfg, site, assets, "/casepilot/", "CasePilot — coding assistant", env)
    ctx["topics"] = [Ctx({"slug": s, "name": n, "examples": list(qs)}) for s, n, qs in TOPICS]
    out.append((urls.file_for("/casepilot/"), env.get_template("casepilot.html").render(ctx).encode()))
    ctx = common(cfg, site, assets, "/guides/", "Coding guides", env)
    ctx["guides"] = guides
    out.append((urls.file_for("/guides/"), env.get_template("guides.html").render(ctx).encode()))
    tpl = env.get_template("guide.html")
    for g in guides:
        ctx = common(cfg, site, assets, g.url, g.title, env)
        ctx["guide"] = g
        out.append((urls.file_for(g.url), tpl.render(ctx).encode()))
    return out
