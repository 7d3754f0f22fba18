"""The first stages: read the config and the hand-written pages, collecting every problem."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import content_cache
from .config import SiteConfig, load_config
from .content import HandPage
from .errors import ContentErrors, Problems
from .guides import Guide
from .state import hand_hashes


@dataclass
class Loaded:
    """A project's inputs as read: config, hand-written pages (with their hashes) and the problems found."""

    cfg: SiteConfig
    problems: Problems
    pages: list[HandPage]
    hand: dict[str, str]  # content path -> hash
    guides: list[Guide] = field(default_factory=list)  # content/guides (CasePilot's pages and passages)


def load_inputs(root: Path) -> Loaded:
    """Reads config and hand-written pages, collecting every problem."""
    problems = Problems()
    cfg = load_config(root, problems)
    hand = hand_hashes(cfg.content_dir, root)
    pages = content_cache.hand_pages(cfg, problems, hand)
    content_cache.synonym_list(cfg, problems)  # checked with the rest of the content; search reads it
    guides = content_cache.guides(cfg, problems)
    for page in pages:
        if page.codeset not in cfg.codesets:
            problems.warn(
                page.path, 0, f"code set '{page.codeset}' is not enabled in content/site.yml; page skipped"
            )
    pages = [p for p in pages if p.codeset in cfg.codesets]
    return Loaded(cfg, problems, pages, hand, guides)


def validate(problems: Problems, *, strict: bool = False) -> None:
    """The validate stage: stops the build (before any output) if anything failed so far."""
    if problems.errors or (strict and problems.warnings):
        raise ContentErrors(problems)
