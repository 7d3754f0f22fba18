"""MUEs: CMS's CSVs (indicator written as text) and the "Medically unlikely edits" section."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from cms_fixtures import CMS, FILES

from generator.errors import BuildError
from generator.premium import mue


def _sources(tmp_path: Path) -> list[mue.MueSource]:
    out = []
    for kind in mue.SETTINGS:
        path = tmp_path / f"{kind}.sqlite"
        mue.import_mue(kind, CMS / FILES[kind], path)
        out.append(mue.MueSource(kind, sqlite3.connect(path)))
    return out


def test_import_reads_value_indicator_and_release(tmp_path: Path) -> None:
    result = mue.import_mue("mue-practitioner", CMS / FILES["mue-practitioner"], tmp_path / "m.sqlite")
    assert (result.rows, result.release) == (6, "2024-07-01")
    db = sqlite3.connect(tmp_path / "m.sqlite")
    row = db.execute("SELECT value, mai, rationale FROM mue WHERE code='J9271'").fetchone()
    assert row == (400, 3, "Clinical: Data")


def test_section_per_setting(tmp_path: Path) -> None:
    s = mue.render("99213", _sources(tmp_path))
    assert s is not None and (s.id, s.kind, s.title) == ("mue", "mue", "Medically unlikely edits")
    assert '<th scope="row">Practitioner</th><td>2</td><td>3 — Date of service edit (clinical)' in s.html
    assert '<th scope="row">Outpatient hospital</th><td>1</td><td>2 — Date of service edit (policy)' in s.html
    assert "DME supplier" not in s.html
    assert "MUEs (practitioner) effective 2024-07-01, CMS" in s.html


def test_dme_line_edit(tmp_path: Path) -> None:
    s = mue.render("A4253", _sources(tmp_path))
    assert s is not None and "DME supplier</th><td>2</td><td>1 — Line edit" in s.html
    assert mue.render("45385", _sources(tmp_path)) is None


def test_bad_indicator_names_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "m.csv"
    p.write_text(
        "HCPCS/CPT Code,MUE Values,MUE Adjudication Indicator\n99213,2,3\n99214,2,Clinical\n",
        encoding="utf-8",
    )
    with pytest.raises(BuildError, match=r"m.csv:3: MUE adjudication indicator 'Clinical' for 99214"):
        mue.import_mue("mue-practitioner", p, tmp_path / "m.sqlite")


def test_rows_read_at_once_equal_the_rows_read_per_code(tmp_path: Path) -> None:
    for src in _sources(tmp_path):
        table = src.by_code()
        assert table and set(table) == src.codes()
        for code in table:
            assert table[code] == src.rows(code)
