"""HCPCS Level II importer: CMS's fixed-width file, its spreadsheet export and a TSV re-export."""
from __future__ import annotations

from pathlib import Path

import pytest
from cms_fixtures import CMS

from generator.errors import BuildError
from generator.importers.hcpcs import HcpcsImporter
from generator.model import HCPCS


def _read(name: str) -> dict[str, object]:
    return {r.key: r for r in HcpcsImporter().read(CMS / name)}


def test_fixed_width_with_disclaimer_continuations_and_modifiers() -> None:
    recs = _read("HCPC2024_JUL_ANWEB_sample.txt")
    a = recs["A4253"]
    assert a.codeset == HCPCS and a.kind == "code" and a.parent == "A-codes"  # type: ignore[attr-defined]
    assert a.title == "Blood glucose test or reagent strips for home blood glucose monitor, per 50 strips"  # type: ignore[attr-defined]
    facts = dict(a.facts)  # type: ignore[attr-defined]
    assert facts["Short descriptor"] == "Blood glucose/reagent strips"
    assert facts["Coverage"] == "D — Special coverage instructions apply"
    assert facts["BETOS"] == "D1E — Other DME"
    assert facts["Pricing indicator"] == "32 — DMEPOS: inexpensive and other routinely purchased items"
    assert facts["Effective date"] == "1998-07-01" and facts["Added"] == "1986-01-01"
    assert facts["Action"] == "N — No maintenance for this code"
    ga = recs["GA"]
    assert ga.parent == "modifiers" and ga.kind == "code"  # type: ignore[attr-defined]
    assert ga.title.endswith("payer policy, individual case")  # type: ignore[attr-defined]
    q = recs["Q0091"]
    assert dict(q.facts)["Termination date"] == "2023-12-31"  # type: ignore[attr-defined]
    assert q.title.endswith("cervical or vaginal smear to laboratory")  # type: ignore[attr-defined]


def test_groups_come_first_and_do_not_collide_with_codes() -> None:
    recs = list(HcpcsImporter().read(CMS / "HCPC2024_JUL_ANWEB_sample.txt"))
    groups = [r for r in recs if r.kind == "group"]
    assert [g.key for g in groups] == ["A-codes", "E-codes", "G-codes", "J-codes", "Q-codes", "modifiers"]
    assert recs[: len(groups)] == groups
    assert len({r.key for r in recs}) == len(recs) == 6 + 6 + 2  # groups, codes, modifiers
    assert all(r.source == "HCPCS Level II 2024-07 release, CMS" for r in recs)  # HCPC2024_JUL_ANWEB


def test_spreadsheet_export_and_reexport_give_the_same_facts() -> None:
    export = _read("HCPC2024_JUL_ANWEB_export.tsv")
    reexport = _read("hcpcs_level2_reexport.tsv")
    fixed = _read("HCPC2024_JUL_ANWEB_sample.txt")
    for recs in (export, reexport):
        assert recs["A4253"].title == fixed["A4253"].title  # type: ignore[attr-defined]
        assert dict(recs["J9271"].facts)["Type of service"] == (  # type: ignore[attr-defined]
            "1 — Medical care; P — Lump-sum purchase of DME, prosthetics and orthotics")
    assert export["GZ"].parent == "modifiers"  # type: ignore[attr-defined]


def test_broken_record_names_the_line(tmp_path: Path) -> None:
    src = (CMS / "HCPC2024_JUL_ANWEB_sample.txt").read_bytes().split(b"\r\n")
    src.insert(12, b"garbage in the middle of the records")
    p = tmp_path / "bad.txt"
    p.write_bytes(b"\r\n".join(src))
    with pytest.raises(BuildError, match=r"bad.txt:13: not a HCPCS record"):
        list(HcpcsImporter().read(p))


def test_orphan_continuation(tmp_path: Path) -> None:
    p = tmp_path / "orphan.txt"
    p.write_bytes(b"A4253002004strips" + b" " * 74 + b"\r\n")
    with pytest.raises(BuildError, match="does not follow"):
        list(HcpcsImporter().read(p))


def test_missing_columns_in_a_table(tmp_path: Path) -> None:
    p = tmp_path / "x.tsv"
    p.write_text("code\tdesc\nA4253\tstrips\n", encoding="utf-8")
    with pytest.raises(BuildError, match="missing column 'LONG_DESCRIPTION'"):
        list(HcpcsImporter().read(p))


def test_hand_written_facts_do_not_repeat_the_official_ones(tmp_path: Path) -> None:
    """The project's own E0601 and G0008 pages (content/codes/hcpcs) over the official file: each fact
    once, the official value kept; a hand fact the file lacks is kept; the clash is a warning."""
    from conftest import ROOT

    from generator.content import read_pages
    from generator.errors import Problems
    from generator.load import merge_hand_pages

    problems = Problems()
    pages = [p for p in read_pages(ROOT / "content", ROOT, problems) if p.codeset == HCPCS]
    assert {p.key for p in pages} >= {"E0601", "G0008"}
    extra = next(p for p in pages if p.key == "E0601")
    extra.facts = [*extra.facts, ("Rental months", "13"), ("coverage", "hand-written")]
    records = list(HcpcsImporter().read(CMS / "HCPC2024_JUL_ANWEB_sample.txt"))
    merged = {r.key: r for r in merge_hand_pages(HCPCS, records, pages, True, problems)}
    for key in ("E0601", "G0008"):
        names = [name.casefold() for name, _ in merged[key].facts]
        assert len(names) == len(set(names)), (key, names)
    facts = dict(merged["E0601"].facts)
    assert facts["Coverage"] == "D — Special coverage instructions apply"  # the official file's words
    assert facts["Rental months"] == "13"
    warned = [str(w) for w in problems.warnings if "E0601" in w.path]
    assert len(warned) == 1 and "'coverage'" in warned[0] and "is ignored" in warned[0]
