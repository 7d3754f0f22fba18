"""NCCI PTP edits: the official file layouts, and the "NCCI edits" section a user reads."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from cms_fixtures import CMS

from generator.errors import BuildError
from generator.premium import ncci

PAGES = {"cpt": {"45378", "45380", "45385", "36415", "99213", "11042"}, "hcpcs": {"G0105"}}


def _source(tmp_path: Path, name: str, kind: str = "ncci-ptp-practitioner") -> ncci.PtpSource:
    out = tmp_path / f"{kind}.sqlite"
    ncci.import_ptp(kind, CMS / name if "/" not in name else Path(name), out)
    return ncci.PtpSource(kind, sqlite3.connect(out))


def test_official_practitioner_file(tmp_path: Path) -> None:
    out = tmp_path / "p.sqlite"
    result = ncci.import_ptp("ncci-ptp-practitioner", CMS / "ccipra-v302r0-f1.txt", out)
    assert (result.rows, result.release, result.note) == (11, "2024-07-01", "10 active")
    db = sqlite3.connect(out)
    assert db.execute("SELECT count(*) FROM ptp").fetchone()[0] == 11
    plan = " ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN SELECT * FROM ptp WHERE c2=1"))
    assert "INDEX" in plan


def test_section_shows_pairs_both_ways_with_modifier_indicators(tmp_path: Path) -> None:
    src = _source(tmp_path, "ccipra-v302r0-f1.txt")
    s = ncci.render("45378", [src], PAGES)
    assert s is not None and (s.id, s.kind, s.title) == ("ncci-edits", "ncci-ptp", "NCCI edits")
    assert "NCCI PTP edits (practitioner) effective 2024-07-01, CMS" in s.html
    # 45378 is column 1 of 45380 (modifier allowed) and column 2 of 45380, 45385 and G0105 (not allowed).
    col1_part, col2_part = s.html.split("Column 1 codes that 45378 is bundled into")
    assert "Practitioner · modifier indicator 1 — modifier allowed" in col1_part
    assert '<a href="/cpt/45380/">45380</a>' in col1_part
    # Indicator 1 names the NCCI-associated modifiers, the HCPCS Level II ones linked to their pages.
    assert '<a href="/hcpcs/XS/">XS</a>' in s.html and "CPT 24, 25, 27, 57, 58, 59" in s.html
    assert "3 active codes" in col2_part and "modifier indicator 0 — modifier not allowed" in col2_part
    assert '<a href="/hcpcs/G0105/">G0105</a> <small>since 1998-04-01</small>' in col2_part


def test_deleted_edits_are_kept_apart(tmp_path: Path) -> None:
    src = _source(tmp_path, "ccipra-v302r0-f1.txt")
    s = ncci.render("11042", [src], PAGES)
    assert s is not None
    active, deleted = s.html.split("Deleted edits")
    assert "36415" not in active
    assert (
        "<p>Practitioner, deleted 2023-12-31 · modifier indicator 1 — modifier allowed: an NCCI-associated "
        'modifier may bypass the edit when clinically appropriate (1): <a href="/cpt/36415/">36415</a></p>'
    ) in deleted
    assert "modifier indicator 9 — not applicable" in active


def test_codes_without_a_page_are_not_linked(tmp_path: Path) -> None:
    src = _source(tmp_path, "ccipra-v302r0-f1.txt")
    s = ncci.render("11042", [src], {"cpt": {"11042"}})
    assert s is not None and "97110" in s.html and 'href="/cpt/97110/"' not in s.html


def test_hospital_csv_with_a_two_line_header(tmp_path: Path) -> None:
    src = _source(tmp_path, "ccioph-v302r0-f1.csv", "ncci-ptp-hospital")
    s = ncci.render("93000", [src], PAGES)
    assert s is not None and "Outpatient hospital · modifier indicator 0" in s.html
    assert "93005" in s.html and "93010" in s.html


def test_pairs_in_both_settings_are_listed_once(tmp_path: Path) -> None:
    prac = _source(tmp_path, "ccipra-v302r0-f1.txt")
    hosp = _source(tmp_path, "ccioph-v302r0-f1.csv", "ncci-ptp-hospital")
    s = ncci.render("45380", [prac, hosp], PAGES)
    assert s is not None
    both = s.html.split("Practitioner and outpatient hospital · modifier indicator 0")[1]
    both = both.split("</details>")[0]
    assert "45378" in both and s.html.count('href="/cpt/45378/"') == 2  # once per direction
    s2 = ncci.render("11042", [prac, hosp], PAGES)
    assert s2 is not None and "Practitioner only · modifier indicator 1" in s2.html
    assert "NCCI PTP edits (outpatient hospital)" not in s2.html  # 11042 is not in the hospital file


def test_a_re_export_with_other_header_spelling(tmp_path: Path) -> None:
    result = ncci.import_ptp("ncci-ptp-practitioner", CMS / "ptp_reexport.csv", tmp_path / "r.sqlite")
    assert result.rows == 2 and result.note == "1 active"


def test_missing_columns(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"missing columns 'column 1', 'column 2', 'modifier indicator'"):
        ncci.import_ptp("ncci-ptp-practitioner", CMS / "ptp_missing_columns.csv", tmp_path / "x.sqlite")
    assert not (tmp_path / "x.sqlite").exists()


def test_bad_modifier_indicator_names_the_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.tsv"
    p.write_text("column1\tcolumn2\tmodifier\n45380\t45378\t0\n45385\t45378\t5\n", encoding="utf-8")
    with pytest.raises(BuildError, match=r"bad.tsv:3: modifier indicator '5' must be 0, 1 or 9"):
        ncci.import_ptp("ncci-ptp-practitioner", p, tmp_path / "x.sqlite")


def test_a_failed_import_keeps_the_previous_data(tmp_path: Path) -> None:
    out = tmp_path / "p.sqlite"
    ncci.import_ptp("ncci-ptp-practitioner", CMS / "ccipra-v302r0-f1.txt", out)
    with pytest.raises(BuildError):
        ncci.import_ptp("ncci-ptp-practitioner", CMS / "ptp_missing_columns.csv", out)
    assert sqlite3.connect(out).execute("SELECT count(*) FROM ptp").fetchone()[0] == 11


def test_thousands_of_edits_stay_collapsed_and_counted(tmp_path: Path) -> None:
    p = tmp_path / "big.tsv"
    rows = [f"99213\t{n:05d}\t1\tStandards of medical/surgical practice" for n in range(10000, 12500)]
    p.write_text("column1\tcolumn2\tmodifier\trationale\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "big.sqlite"
    ncci.import_ptp("ncci-ptp-practitioner", p, out)
    s = ncci.render("99213", [ncci.PtpSource("ncci-ptp-practitioner", sqlite3.connect(out))], PAGES)
    assert s is not None
    assert "2,500 active codes" in s.html and '<span class="count">(2,500)</span>' in s.html
    assert "<details open>" not in s.html


def test_html_is_escaped(tmp_path: Path) -> None:
    p = tmp_path / "x.tsv"
    p.write_text(
        "column1\tcolumn2\tmodifier\trationale\n99213\t36415\t1\t<script>alert(1)</script>\n",
        encoding="utf-8",
    )
    out = tmp_path / "x.sqlite"
    ncci.import_ptp("ncci-ptp-practitioner", p, out)
    s = ncci.render("99213", [ncci.PtpSource("ncci-ptp-practitioner", sqlite3.connect(out))], PAGES)
    assert s is not None and "<script>" not in s.html and "&lt;script&gt;" in s.html


def test_version_date() -> None:
    assert ncci.version_date("ccipra-v302r0-f1.txt") == "2024-07-01"
    assert ncci.version_date("ccioph-v293r0-f4.xlsx") == "2023-10-01"
    assert ncci.version_date("ptp.tsv") == ""
