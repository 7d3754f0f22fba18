"""The write stage: the site's files beside the record pages (special pages, books, sitemaps…)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .cache_policy import HEADERS_FILE, headers_file
from .link import CodeSetModel
from .publish import SlotWriter
from .render_job import RecordFiles
from .theme import SiteFile, Theme

Models = dict[str, CodeSetModel]
SiteStage = Callable[[Theme, Models], Iterable[SiteFile]]


def write_site_files(stages: Iterable[SiteStage], theme: Theme, models: Models, writer: SlotWriter) -> None:
    """The output of every site stage, then the `_headers` file covering them."""
    for stage in stages:
        for rel, data in stage(theme, models):
            writer.write(rel, data)
    writer.write(HEADERS_FILE, headers_file(theme.cfg.codesets, list(writer.new)))


@dataclass
class SiteFiles:
    """What the write stage wrote: site path -> hash, and how many files changed on disk."""

    new: dict[str, str]
    written: int


def write_site_files_in(
    stages: Iterable[SiteStage], theme: Theme, models: Models, slot_dir: Path, old: dict[str, str]
) -> SiteFiles:
    """`write_site_files` into the slot beside the record pages, which may still be rendering: the
    paths they take come from the model (`render_job.RecordFiles`), not from what was written."""
    writer = SlotWriter(slot_dir, old, taken=RecordFiles(models))
    write_site_files(stages, theme, models, writer)
    return SiteFiles(writer.new, writer.written)
