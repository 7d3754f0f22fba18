"""Adding a stage, as build.py's docstring describes it: a site stage's pages and a data stage's file."""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from generator import build as build_module
from generator.build import build
from generator.config import SiteConfig
from generator.errors import BuildError
from generator.link import CodeSetModel
from generator.theme import SiteFile, Theme


def job_pages(theme: Theme, models: dict[str, CodeSetModel]) -> Iterator[SiteFile]:
    """A site stage: a page per job, rendered with the theme like any special page."""
    for n in (1, 2):
        yield theme.page("404.html", f"/jobs/{n}/", f"Job {n}")


class Facts:
    """A data stage writing a file beside the protected store, made live at the commit point."""

    log: ClassVar[list[str]] = []

    def __init__(self, cfg: SiteConfig, models: dict[str, CodeSetModel], jobs: int) -> None:
        self.path = cfg.store_path.with_name("facts.json")
        self.fresh = self.path.with_name("facts.json.new")
        self.fresh.parent.mkdir(parents=True, exist_ok=True)
        self.fresh.write_text(json.dumps({cs: m.code_count for cs, m in models.items()}))

    def commit(self) -> None:
        os.replace(self.fresh, self.path)
        Facts.log.append("commit")

    def abort(self) -> None:
        self.fresh.unlink(missing_ok=True)
        Facts.log.append("abort")


def test_a_site_stage_and_a_data_stage_are_one_line_each(
    project, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    root: Path = project()
    monkeypatch.setattr(build_module, "SITE_STAGES", (*build_module.SITE_STAGES, job_pages))
    monkeypatch.setattr(build_module, "DATA_STAGES", (Facts,))
    Facts.log = []
    result = build(root, quiet=True, jobs=1)
    assert "Job 2" in (root / "site" / "jobs" / "2" / "index.html").read_text()
    headers = (root / "site" / "_headers").read_text()
    assert "/jobs/*\n  Cache-Control: public, max-age=300, must-revalidate" in headers
    assert json.loads((root / "var" / "facts.json").read_text())["cpt"] == result.counts["cpt"]
    assert Facts.log == ["commit"] and not (root / "var" / "facts.json.new").exists()


def test_a_failing_stage_aborts_the_data_stages_and_keeps_the_site(
    project, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    root: Path = project()
    build(root, quiet=True, jobs=1)
    home = (root / "site" / "index.html").read_bytes()

    def clashing(theme: Theme, models: dict[str, CodeSetModel]) -> Iterator[SiteFile]:
        yield theme.page("404.html", "/cpt/27252/", "Not the code page")  # a record page's path

    monkeypatch.setattr(build_module, "SITE_STAGES", (*build_module.SITE_STAGES, clashing))
    monkeypatch.setattr(build_module, "DATA_STAGES", (Facts,))
    site_yml = root / "content" / "site.yml"
    site_yml.write_text(site_yml.read_text().replace("coderef test", "renamed"))
    Facts.log = []
    with pytest.raises(BuildError, match=r"two outputs want the same path 'cpt/27252/index\.html'"):
        build(root, quiet=True, jobs=1)
    assert Facts.log == ["abort"]
    assert not (root / "var" / "facts.json").exists() and not (root / "var" / "facts.json.new").exists()
    assert (root / "site" / "index.html").read_bytes() == home
