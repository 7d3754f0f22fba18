"""The real CMS files (content/official, else ../shared/data): counts from PROVENANCE.md, spot values."""
from __future__ import annotations

import sqlite3

import pytest
from casepilot_kit import CmsImports, official_file
from conftest import SHARED_DATA, official_data
from ncci_layouts import edit_rows

from generator.config import SiteConfig
from generator.importers.hcpcs import HcpcsImporter
from generator.premium import premium_sections
from generator.premium.db import data_file

pytestmark = [pytest.mark.shareddata, pytest.mark.slow]


# The files PROVENANCE.md counts (the shipped copies CasePilot's project imports are the same files).
FILES = {
    "ncci-ptp-practitioner": "ncci/ptp_practitioner_2024q3.tsv.gz",
    "ncci-ptp-hospital": "ncci/ptp_outpatient_hospital_2024q3.tsv.gz",
    "mue-practitioner": "mue/mue_practitioner_2024-07-01.tsv.gz",
    "mue-hospital": "mue/mue_outpatient_hospital_2024-07-01.tsv.gz",
    "mue-dme": "mue/mue_dme_supplier_2024-07-01.tsv.gz",
    "ncci-aoc": "ncci/aoc_2024-06.tsv.gz",
    "pprrvu": "mpfs/pprrvu_2024_quarters_noCPTdesc.tsv.gz",
    "gpci": "mpfs/gpci_2024_quarters.tsv.gz",
    "gem-cm-to-icd9": "gems/2018_I10gem.txt.gz",
    "gem-icd9-to-cm": "gems/2018_I9gem.txt.gz",
    "gem-pcs-to-icd9": "gems/gem_pcsi9.txt.gz",
    "gem-icd9-to-pcs": "gems/gem_i9pcs.txt.gz",
    "icd9-descriptions-dx": "icd9cm/CMS32_DESC_LONG_DX.txt.gz",
    "icd9-descriptions-sg": "icd9cm/CMS32_DESC_LONG_SG.txt.gz",
}


@pytest.fixture(scope="module")
def imported(cms_imports: CmsImports) -> tuple[SiteConfig, dict[str, int]]:
    """The session's one import of the real CMS files (conftest.cms_imports), which CasePilot's
    CMS project copies too: the same files as FILES, imported once."""
    data = official_data(*FILES.values())
    for kind, rel in FILES.items():
        assert official_file(kind, data).read_bytes() == (data / rel).read_bytes(), kind
    return cms_imports.cfg, {kind: rows for kind, rows in cms_imports.rows.items() if kind in FILES}


def test_hcpcs_counts() -> None:
    data = official_data("hcpcs/hcpcs_level2_2024-07.tsv.gz", "hcpcs/HCPC2020_ANWEB_w_disclaimer.txt.gz")
    july = [r for r in HcpcsImporter().read(data / "hcpcs/hcpcs_level2_2024-07.tsv.gz") if r.is_code]
    assert len(july) == 8033
    # Codes terminated before the July 2024 release are flagged (header badge, search results).
    by_key = {r.key: r for r in july}
    assert (by_key["A4397"].change, by_key["A4397"].change_label) == ("terminated", "Terminated 2021-12-31")
    ended = [r for r in july if any(k == "Termination date" and v < "2024-07-01" for k, v in r.facts)]
    assert {r.key for r in july if r.change == "terminated"} == {r.key for r in ended} and len(ended) > 1000
    assert by_key["J9271"].change == ""
    files = [data / "hcpcs" / "HCPC2020_ANWEB_w_disclaimer.txt.gz"]
    if SHARED_DATA.is_dir():  # its TSV export is not shipped (the official fixed-width file is)
        files.append(SHARED_DATA / "hcpcs" / "hcpcs_2020_anweb.tsv.gz")
    for path in files:
        recs = [r for r in HcpcsImporter().read(path) if r.is_code]
        assert sum(r.parent == "modifiers" for r in recs) == 369
        assert sum(r.parent != "modifiers" for r in recs) == 6710


def test_row_counts_match_provenance(imported: tuple[SiteConfig, dict[str, int]]) -> None:
    _, rows = imported
    assert rows == {
        "ncci-ptp-practitioner": 2_546_017, "ncci-ptp-hospital": 1_775_818,
        "mue-practitioner": 14_677, "mue-hospital": 14_628, "mue-dme": 2_928, "ncci-aoc": 7_465,
        "pprrvu": 18_664,  # RVU24C (July) of the four stacked releases
        "gpci": 109,
        "gem-cm-to-icd9": 81_593, "gem-icd9-to-cm": 24_860,
        "gem-pcs-to-icd9": 101_025, "gem-icd9-to-pcs": 73_593,
        "icd9-descriptions-dx": 14_567, "icd9-descriptions-sg": 3_882,
    }
    cfg, _ = imported
    db = sqlite3.connect(data_file(cfg, "ncci-ptp-practitioner"))
    assert sum(1 for row in edit_rows(db) if row[3] is None) == 1_669_820


def test_spot_values(imported: tuple[SiteConfig, dict[str, int]]) -> None:
    cfg, _ = imported
    pages = {"cpt": {"45378", "99213", "00731", "27252", "78701"}, "hcpcs": {"J9271"}}
    got = {(k, s.id): s.html for _, k, s in premium_sections(cfg, pages)}
    # PTP: 45378 / 00731, active, modifier indicator 0 (anesthesia included in the surgical procedure).
    ncci = got[("45378", "ncci-edits")]
    group = next(
        g for g in ncci.split("<summary>") if "· Anesthesia service included in surgical procedure" in g
    )
    assert "modifier indicator 0 — modifier not allowed" in group.split("</summary>")[0]
    assert '<a href="/cpt/00731/">00731</a>' in group.split("</details>")[0]
    # MUE: J9271 practitioner 400 units, date-of-service clinical edit.
    assert (
        '<th scope="row">Practitioner</th><td>400</td><td>3 — Date of service edit (clinical)'
        in got[("J9271", "mue")]
    )
    # 99213, Manhattan (NY 01), July 2024: GPCI 1.065 / 1.166 / 1.656, CF 33.2875.
    # Non-facility (1.30 x 1.065 + 1.33 x 1.166 + 0.10 x 1.656) x 33.2875
    #              = 3.10088 x 33.2875 = 103.2205 -> $103.22
    # Facility     (1.30 x 1.065 + 0.56 x 1.166 + 0.10 x 1.656) x 33.2875
    #              = 2.20306 x 33.2875 = 73.3344 -> $73.33
    assert "<td>MANHATTAN</td><td>$103.22</td><td>$73.33</td>" in got[("99213", "rvu-payment")]
    # National: 2.73 x 33.2875 = 90.87; 1.96 x 33.2875 = 65.24
    assert "<td>$90.87</td><td>$65.24</td>" in got[("99213", "rvu-payment")]
    # Deleted edits keep their modifier indicator: 45378 / 00740, deleted 2017-12-31, indicator 0.
    deleted = ncci.split("Deleted edits", 1)[1].split("Column 1 codes that 45378", 1)[0]
    # (A pair deleted alike in both settings is listed once, under both.)
    lines = [p for p in deleted.split("<p>") if ", deleted 2017-12-31 · modifier indicator 0 — " in p]
    assert any(p.startswith("Practitioner") and "<span>00740</span>" in p for p in lines)
    assert any("<span>00810</span>" in p for p in lines)
    # NA where the file flags the PE as NA: 27252 non-facility, 78701 (and its TC) facility.
    hip = got[("27252", "rvu-payment")].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    cells = hip.split("<td>")
    assert cells[3].startswith("<abbr") and cells[6].startswith("<abbr") and cells[8].startswith("<abbr")
    assert cells[4] == "9.41</td>" and cells[9].startswith("$")
    scan = got[("78701", "rvu-payment")]
    row = scan.split('<th scope="row">none</th>', 1)[1].split("</tr>", 1)[0].split("<td>")
    assert row[3] == "5.69</td>" and row[4].startswith("<abbr") and row[7].startswith("<abbr")
    assert row[8].startswith("$") and row[9].startswith("<abbr")
    tc = scan.split('<th scope="row">TC</th>', 1)[1].split("</tr>", 1)[0].split("<td>")
    assert tc[4].startswith("<abbr") and not tc[3].startswith("<abbr")
