"""PPRRVU and GPCI imports: CMS's CSVs with preamble and two-line headers, and re-exports."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from cms_fixtures import CMS, FILES

from generator.errors import BuildError
from generator.premium import mpfs


def test_pprrvu_official_csv(tmp_path: Path) -> None:
    out = tmp_path / "r.sqlite"
    result = mpfs.import_pprrvu("pprrvu", CMS / FILES["pprrvu"], out)
    assert (result.rows, result.release) == (5, "RVU24 (July 2024)")
    row = sqlite3.connect(out).execute(
        "SELECT status, work, nf_pe, f_pe, mp, nf_total, f_total, glob, cf FROM rvu WHERE code='99213'"
    ).fetchone()
    assert row == ("A", 1.30, 1.33, 0.56, 0.10, 2.73, 1.96, "XXX", 33.2875)


def test_stacked_releases_keep_the_latest(tmp_path: Path) -> None:
    p = tmp_path / "pprrvu_quarters.tsv"
    cols = ["release", "hcpcs", "mod", "status_code", "work_rvu", "non_fac_pe_rvu", "facility_pe_rvu",
            "mp_rvu", "non_facility_total", "facility_total", "pctc_ind", "glob_days", "mult_proc",
            "bilat_surg", "asst_surg", "co_surg", "team_surg", "conv_factor"]
    rows = ["rvu24a_jan\t99213\t\tA\t1.3\t1.3\t0.5\t0.1\t2.7\t1.9\t0\tXXX\t0\t0\t0\t0\t0\t32.7442",
            "rvu24c_jul\t99213\t\tA\t1.3\t1.33\t0.56\t0.1\t2.73\t1.96\t0\tXXX\t0\t0\t0\t0\t0\t33.2875"]
    p.write_text("\t".join(cols) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = mpfs.import_pprrvu("pprrvu", p, tmp_path / "r.sqlite")
    assert (result.rows, result.release, result.note) == (
        1, "RVU24C (July 2024)", "latest of 2 releases kept",
    )


def test_gpci_official_csv_skips_the_footnote(tmp_path: Path) -> None:
    out = tmp_path / "g.sqlite"
    result = mpfs.import_gpci("gpci", CMS / FILES["gpci"], out)
    assert (result.rows, result.release) == (4, "GPCI2024 (2024)")
    db = sqlite3.connect(out)
    rows = db.execute("SELECT state, locality, name, work, pe, mp FROM gpci ORDER BY name").fetchall()
    assert rows[2] == ("CA", "18", "LOS ANGELES", 1.054, 1.208, 0.634)


def test_pprrvu_bad_number(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    text = (CMS / FILES["pprrvu"]).read_text(encoding="utf-8").replace("1.30,1.33", "1.30,n/a")
    p.write_text(text, encoding="utf-8")
    with pytest.raises(BuildError, match=r"bad.csv:5: non-facility PE RVU 'n/a' is not a number"):
        mpfs.import_pprrvu("pprrvu", p, tmp_path / "r.sqlite")
