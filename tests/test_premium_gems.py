"""GEMs and ICD-9-CM descriptions: the "ICD-9-CM crosswalk (GEMs)" section of ICD-10 pages."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from cms_fixtures import CMS, FILES

from generator.errors import BuildError
from generator.premium import gems


def _open(tmp_path: Path, kind: str) -> sqlite3.Connection:
    out = tmp_path / f"{kind}.sqlite"
    (gems.import_descriptions if kind.startswith("icd9") else gems.import_gem)(kind, CMS / FILES[kind], out)
    return sqlite3.connect(out)


def test_forward_and_backward_with_combination_flags(tmp_path: Path) -> None:
    srcs = [gems.GemSource(k, _open(tmp_path, k)) for k in ("gem-cm-to-icd9", "gem-icd9-to-cm")]
    s = gems.render("icd-10-cm", "E11.40", srcs, _open(tmp_path, "icd9-descriptions-dx"), {})
    assert s is not None
    assert (s.id, s.kind, s.title) == ("gems-crosswalk", "crosswalk", "ICD-9-CM crosswalk (GEMs)")
    assert ("<li><b>357.2</b> Polyneuropathy in diabetes <i>(approximate, combination: scenario 1, "
            "choice list 2)</i></li>") in s.html
    assert "Combination: every code of one choice list" in s.html
    assert "ICD-9-CM codes that map to E11.40" in s.html
    assert "ICD-10-CM to ICD-9-CM GEMs FY2018, CMS" in s.html


def test_no_map(tmp_path: Path) -> None:
    src = gems.GemSource("gem-cm-to-icd9", _open(tmp_path, "gem-cm-to-icd9"))
    s = gems.render("icd-10-cm", "Z99.89", [src], None, {})
    assert s is not None and "No ICD-9-CM equivalent (no map)" in s.html


def test_pcs_with_procedure_descriptions(tmp_path: Path) -> None:
    srcs = [gems.GemSource(k, _open(tmp_path, k)) for k in ("gem-pcs-to-icd9", "gem-icd9-to-pcs")]
    s = gems.render("icd-10-pcs", "0DTF0ZZ", srcs, _open(tmp_path, "icd9-descriptions-sg"), {})
    assert (
        s is not None
        and "<li><b>45.73</b> Open and other right hemicolectomy <i>(approximate)</i></li>" in s.html
    )
    assert "Combination" not in s.html
    assert "CMS file gem_pcsi9.txt" in s.html


def test_latin1_descriptions(tmp_path: Path) -> None:
    db = _open(tmp_path, "icd9-descriptions-dx")
    row = db.execute("SELECT description FROM icd9 WHERE code='38600'").fetchone()
    assert row == ("Ménière's disease, unspecified",)


def test_icd9_display() -> None:
    assert gems.icd9_display("25020", False) == "250.20"
    assert gems.icd9_display("E8800", False) == "E880.0"
    assert gems.icd9_display("V1011", False) == "V10.11"
    assert gems.icd9_display("4573", True) == "45.73"


def test_bad_line(tmp_path: Path) -> None:
    p = tmp_path / "2018_I10gem.txt"
    p.write_text("E1100   25020 10000\nE1101 25020\n", encoding="ascii")
    with pytest.raises(BuildError, match=r"2018_I10gem.txt:2: not a GEM line"):
        gems.import_gem("gem-cm-to-icd9", p, tmp_path / "x.sqlite")


def test_pcs_gems_name_their_year_when_they_are_the_shipped_file(tmp_path: Path) -> None:
    """gem_pcsi9.txt has the same name every year: a copy of the shipped (FY2018) file is known by
    its bytes and its section names FY2018; another file of that name shows its file name."""
    import gzip
    import shutil

    from conftest import ROOT, shared_data

    from generator.cli import main
    from generator.config import SiteConfig
    from generator.premium.db import data_file, read_meta

    shipped = ROOT / "content" / "official" / "gems" / "gem_pcsi9.txt.gz"
    root = tmp_path / "proj"
    (root / "content" / "official" / "gems").mkdir(parents=True)
    shutil.copy(shipped, root / "content" / "official" / "gems" / shipped.name)
    plain = tmp_path / "gem_pcsi9.txt"
    plain.write_bytes(gzip.decompress((shared_data() / "gems" / "gem_pcsi9.txt.gz").read_bytes()))
    assert main(["--root", str(root), "import", "gem-pcs-to-icd9", str(plain)]) == 0
    db = sqlite3.connect(data_file(SiteConfig(root=root), "gem-pcs-to-icd9"))
    assert read_meta(db)["release"] == "FY2018"
    s = gems.render("icd-10-pcs", "0DTF0ZZ", [gems.GemSource("gem-pcs-to-icd9", db)], None, {})
    assert s is not None and "GEMs FY2018, CMS" in s.html and "CMS file" not in s.html
    db.close()
    other = tmp_path / "other" / "gem_pcsi9.txt"
    other.parent.mkdir()
    other.write_bytes(plain.read_bytes().replace(b"0DTF0ZZ", b"0DTF4ZZ", 1))
    assert main(["--root", str(root), "import", "gem-pcs-to-icd9", str(other)]) == 0
    db = sqlite3.connect(data_file(SiteConfig(root=root), "gem-pcs-to-icd9"))
    assert read_meta(db).get("release", "") == ""
    db.close()


def test_descriptions_read_at_once(tmp_path: Path) -> None:
    db = _open(tmp_path, "icd9-descriptions-dx")
    descs = gems.descriptions(db)
    assert descs["3572"] == "Polyneuropathy in diabetes"
    assert len(descs) == db.execute("SELECT count(*) FROM icd9").fetchone()[0]
