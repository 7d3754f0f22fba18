"""NCCI add-on code edits: primary codes of an add-on code and add-on codes of a primary code."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from cms_fixtures import CMS, FILES

from generator.premium import aoc

PAGES = {"cpt": {"11042", "11045", "96375"}}


def _source(tmp_path: Path) -> aoc.AocSource:
    out = tmp_path / "aoc.sqlite"
    result = aoc.import_aoc("ncci-aoc", CMS / FILES["ncci-aoc"], out)
    assert result.rows == 6
    return aoc.AocSource(sqlite3.connect(out))


def test_add_on_code_lists_its_primary_codes(tmp_path: Path) -> None:
    s = aoc.render("11045", _source(tmp_path), PAGES)
    assert s is not None and (s.id, s.kind) == ("add-on-codes", "add-on-codes")
    assert "Type 1: only the listed primary codes are eligible" in s.html
    assert '<a href="/cpt/11042/">11042</a>' in s.html and "<span>11043</span>" in s.html


def test_primary_code_lists_its_add_on_codes(tmp_path: Path) -> None:
    s = aoc.render("11042", _source(tmp_path), PAGES)
    assert s is not None and "may be reported with 11042" in s.html and "/cpt/11045/" in s.html


def test_deleted_edits_and_no_primary_marker(tmp_path: Path) -> None:
    src = _source(tmp_path)
    s = aoc.render("96375", src, PAGES)
    assert s is not None and "96365" in s.html and "96360" not in s.html and "Type 3" in s.html
    s2 = aoc.render("0054T", src, PAGES)
    assert s2 is not None and "Type 2: CMS lists no primary codes" in s2.html and "CCCCC" not in s2.html
    assert aoc.render("96360", src, PAGES) is None


def test_rows_read_at_once_equal_the_rows_read_per_code(tmp_path: Path) -> None:
    src = _source(tmp_path)
    by_addon, by_primary = src.by_code()
    assert set(by_addon) | set(by_primary) == src.codes()
    for code in src.codes():
        assert by_addon.get(code, []) == src.as_addon(code)
        assert by_primary.get(code, []) == src.as_primary(code)
