"""NCCI PTP edits: the official file layouts, and the "NCCI edits" section a user reads."""
from __future__ import annotations

import re
import sqlite3
from html.parser import HTMLParser
from pathlib import Path

import pytest
from cms_fixtures import CMS
from ncci_layouts import edit_rows, to_row_layout

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
    assert len(edit_rows(db)) == 11 and ncci.layout(db) == "grouped"
    # one row per code each way, read by key
    for column in ("c1", "c2"):
        q = f"EXPLAIN QUERY PLAN SELECT * FROM by_{column} WHERE code=1"
        plan = " ".join(r[3] for r in db.execute(q))
        assert "INTEGER PRIMARY KEY" in plan


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
    assert len(edit_rows(sqlite3.connect(out))) == 11


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


class _Blocks(HTMLParser):
    """The code blocks of a section as a reader sees them: each `<p class="codes">` with the summary
    lines of the `<details>` it is in (direction, then settings · indicator · rationale)."""

    def __init__(self) -> None:
        super().__init__()
        self.heads: list[str] = []  # the open <details>' summaries, outermost first
        self.text: list[str] | None = None  # the summary being read
        self.codes: list[str] | None = None  # the codes block being read
        self.linked: dict[str, str] = {}  # code -> href
        self.href = ""
        self.blocks: list[tuple[tuple[str, ...], list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "details":
            self.heads.append("")
        elif tag == "summary":
            self.text = []
        elif tag == "p" and ("class", "codes") in attrs:
            self.codes = []
        elif tag == "a":
            self.href = dict(attrs).get("href") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self.heads.pop()
        elif tag == "summary" and self.text is not None:
            self.heads[-1] = "".join(self.text)
            self.text = None
        elif tag == "p" and self.codes is not None:
            self.blocks.append((tuple(self.heads), self.codes))
            self.codes = None
        elif tag == "a":
            self.href = ""

    def handle_data(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)
        if self.codes is not None:
            for code in data.split():
                self.codes.append(code)
                if self.href:
                    self.linked[code] = self.href


def _synthetic(tmp_path: Path, kind: str, rows: list[str]) -> ncci.PtpSource:
    p = tmp_path / f"{kind}.tsv"
    p.write_text("column1\tcolumn2\tmodifier\teffective\tdeletion\trationale\n" + "\n".join(rows) + "\n",
                 encoding="utf-8")
    out = tmp_path / f"{kind}.sqlite"
    ncci.import_ptp(kind, p, out)
    return ncci.PtpSource(kind, sqlite3.connect(out))


# Two settings sharing most pairs, one pair with another indicator in each, rationales, a duplicate
# row, deleted edits, codes with and without pages (the HCPCS and CDT ones).
PRAC = [
    "99213\t36415\t1\t\t*\tStandards of medical/surgical practice",
    "99213\t36415\t1\t\t*\tStandards of medical/surgical practice",
    "99213\t93000\t0\t\t*\tMutually exclusive procedures",
    "99213\t11042\t1\t\t*\tStandards of medical/surgical practice",
    "99213\tG0105\t9\t\t*\t",
    "99213\tD0120\t1\t\t20231231\tStandards of medical/surgical practice",
    "99213\t45378\t0\t\t20171231\tMutually exclusive procedures",
    "45380\t99213\t1\t\t*\tStandards of medical/surgical practice",
] + [f"99213\t{n:05d}\t1\t\t*\tStandards of medical/surgical practice" for n in range(10000, 10040)]
HOSP = [
    "99213\t36415\t1\t\t*\tStandards of medical/surgical practice",
    "99213\t93000\t1\t\t*\tMutually exclusive procedures",
    "99213\tJ1100\t0\t\t*\tStandards of medical/surgical practice",
    "99213\t45378\t0\t\t20171231\tMutually exclusive procedures",
] + [f"99213\t{n:05d}\t1\t\t*\tStandards of medical/surgical practice" for n in range(10000, 10030)]


def test_the_grouped_reading_and_the_row_by_row_one_agree(tmp_path: Path) -> None:
    fixtures = [_source(tmp_path, "ccipra-v302r0-f1.txt"), _source(tmp_path, "ccioph-v302r0-f1.csv",
                                                                    "ncci-ptp-hospital")]
    (tmp_path / "s").mkdir()
    (tmp_path / "d").mkdir()
    synthetic = [_synthetic(tmp_path / "s", "ncci-ptp-practitioner", PRAC),
                 _synthetic(tmp_path / "s", "ncci-ptp-hospital", HOSP)]
    dated = [_synthetic(tmp_path / "d", "ncci-ptp-practitioner", [
        "99213\t36415\t1\t20200101\t*\tStandards of medical/surgical practice",
        "99213\t36415\t1\t20220101\t*\tStandards of medical/surgical practice",
        "99213\t93000\t0\t19980401\t20171231\tMutually exclusive procedures",
    ])]
    checked = 0
    for sources in (fixtures, fixtures[:1], fixtures[1:], synthetic, dated):
        for code in sorted(set().union(*(s.codes() for s in sources))):
            for pages in (PAGES, ncci.Linker(PAGES), {}):
                fast = ncci.render(code, sources, pages)
                plain = ncci.render_plain(code, sources, pages)
                assert fast == plain, code
                checked += fast is not None
    assert checked > 60
    s = ncci.render("99213", dated, PAGES)
    assert s is not None and '<a href="/cpt/36415/">36415</a> <small>since 2022-01-01</small>' in s.html


def test_a_paid_reader_sees_every_pair_with_its_indicator_and_rationale(tmp_path: Path) -> None:
    """Every active pair of both files is under a heading naming its setting(s), modifier indicator
    and rationale, once per setting; every code with a page is a link to it."""
    prac = _synthetic(tmp_path, "ncci-ptp-practitioner", PRAC)
    hosp = _synthetic(tmp_path, "ncci-ptp-hospital", HOSP)
    pages = {**PAGES, "cpt": PAGES["cpt"] | {"93000"} | {f"{n:05d}" for n in range(10000, 10040)}}
    s = ncci.render("99213", [prac, hosp], pages)
    assert s is not None
    reader = _Blocks()
    reader.feed(s.html)
    seen: set[tuple[str, str, str, int, str]] = set()  # (direction, setting, other, indicator, rationale)
    for heads, codes in reader.blocks:
        direction, group = heads[0], heads[-1]
        if group.startswith("Deleted edits"):
            continue
        where, _, rest = group.partition(" · modifier indicator ")
        mod = int(rest[0])
        rationale = rest.split(" · ", 1)[1].rsplit(" (", 1)[0] if " · " in rest else ""
        settings = (["practitioner", "outpatient hospital"] if where.startswith("Practitioner and")
                    else [where.removesuffix(" only").lower()])
        assert len(codes) == len(set(codes)) and codes == sorted(codes)
        for setting in settings:
            for code in codes:
                column = "c1" if direction.startswith("Column 2 codes") else "c2"
                key = (column, setting, code, mod, rationale)
                assert key not in seen
                seen.add(key)
    expected = set()
    for src in (prac, hosp):
        for column in ("c1", "c2"):
            expected |= {(column, src.setting, other, mod, rat)
                         for other, _eff, dele, mod, rat in src.edits("99213", column) if dele is None}
    assert seen == expected
    # Links: every code with a page, the others as text.
    assert reader.linked["36415"] == "/cpt/36415/" and reader.linked["G0105"] == "/hcpcs/G0105/"
    assert "J1100" not in reader.linked and "<span>J1100</span>" in s.html
    # Deleted edits, by date, indicator and setting(s): a pair deleted alike in both settings once.
    assert ("Practitioner only, deleted 2023-12-31 · modifier indicator 1 — modifier allowed: an "
            "NCCI-associated modifier may bypass the edit when clinically appropriate (1): "
            "<span>D0120</span></p>") in s.html
    assert ("<p>Practitioner and outpatient hospital, deleted 2017-12-31 · modifier indicator 0 — modifier "
            "not allowed: the column 2 code is never paid with the column 1 code (1): "
            '<a href="/cpt/45378/">45378</a></p>') in s.html
    deleted = set()
    for where, date, mod, codes in re.findall(
        r"<p>([^,<]+), deleted (\S+) · modifier indicator (\d) — [^(]*\([\d,]+\): (.*?)</p>", s.html
    ):
        settings = (["practitioner", "outpatient hospital"] if where.startswith("Practitioner and")
                    else [where.removesuffix(" only").lower()])
        for setting in settings:
            deleted |= {(setting, code, date, int(mod)) for code in re.sub(r"<[^>]+>", "", codes).split(", ")}
    assert deleted == {(src.setting, other, ncci.show_date(dele), mod)
                       for src in (prac, hosp) for column in ("c1", "c2")
                       for other, _eff, dele, mod, _rat in src.edits("99213", column) if dele is not None}


def _files(folder: Path) -> list[list[ncci.PtpSource]]:
    """Both settings of the official layouts, and of synthetic files with a repeated line, deleted
    edits and a pair listed both ways."""
    folder.mkdir()
    (folder / "s").mkdir()
    return [[_source(folder, "ccipra-v302r0-f1.txt"),
             _source(folder, "ccioph-v302r0-f1.csv", "ncci-ptp-hospital")],
            [_synthetic(folder / "s", "ncci-ptp-practitioner", [*PRAC, "36415\t99213\t0\t\t20191231\tx"]),
             _synthetic(folder / "s", "ncci-ptp-hospital", HOSP)]]


@pytest.mark.parametrize(("old_layout", "renumber"), [("spans", False), ("rows", False), ("rows", True)])
def test_a_file_converted_before_the_grouped_layout_reads_alike(tmp_path: Path, old_layout: str,
                                                                  renumber: bool) -> None:
    """A file converted by an earlier release (a row per edit in `ptp`, with `c1_rows` or, older, an
    index on column 1: an imported file is not converted again) gives the same sections, edits, roles,
    pair answers and counts."""
    old_files = _files(tmp_path / "old")
    for sources in old_files:
        for src in sources:
            path = Path(src.db.execute("PRAGMA database_list").fetchone()[2])
            src.db.close()
            to_row_layout(path, old_layout, renumber=renumber)
            src.db = sqlite3.connect(path)
    for new, old in zip(_files(tmp_path / "new"), old_files, strict=True):
        assert all(s.layout == "grouped" for s in new) and all(s.layout == old_layout for s in old)
        codes = sorted(set().union(*(s.codes() for s in new)))
        assert len(codes) > 5
        for code in codes:
            assert ncci.render(code, new, PAGES) == ncci.render(code, old, PAGES), code
            for a, b in zip(new, old, strict=True):
                for column in ("c1", "c2"):
                    # in the same order, but for a file without spans the order of its column 1 index
                    exact = old_layout == "spans" or column == "c2"
                    assert a.edits(code, column) == (b.edits(code, column) if exact else sorted(
                        b.edits(code, column), key=lambda e: a.edits(code, column).index(e)))
                    assert [(*g[:4], g[4] if exact else sorted(g[4])) for g in b.grouped(code, column)] == [
                        (*g[:4], g[4] if exact else sorted(g[4])) for g in a.grouped(code, column)]
                    assert a.has_active(code, column) == b.has_active(code, column)
                for other in codes:
                    assert a.pair_rows(code, other) == b.pair_rows(code, other)
        for a, b in zip(new, old, strict=True):
            for column in ("c1", "c2"):
                assert a.edit_counts(column) == b.edit_counts(column)
    fixtures, synthetic = _files(tmp_path / "again")
    assert any(s.has_active("45380", "c1") for s in fixtures) and not fixtures[0].has_active("XXXXX", "c1")
    # both orders, the repeated line twice, the edit in force first
    assert [r[:4] for r in synthetic[0].pair_rows("36415", "99213")] == [
        ("99213", "36415", None, None), ("99213", "36415", None, None), ("36415", "99213", None, 20191231)]


@pytest.mark.parametrize(("layout", "renumber"), [("spans", False), ("rows", False), ("rows", True)])
def test_the_quarter_comparison_reads_any_layout(tmp_path: Path, layout: str, renumber: bool) -> None:
    """Two quarters compared as converted now, and with either converted before (a row per edit,
    code ids 1, 2, 3... in the earliest files): the same changes."""
    from generator.history.ncci_compare import compare_ptp

    july = [*PRAC, "36415\t99213\t0\t\t20191231\tx", "11042\t36415\t1\t\t\tx"]
    october = [line.replace("\t*\t", "\t20241231\t") if line.startswith("99213\t100") else line
               for line in july if "93000" not in line and "11042\t36415" not in line]
    october += ["99213\t93000\t1\t\t*\tMutually exclusive procedures", "0001A\t99213\t1\t\t\tx",
                "11042\t36415\t1\t\t\ty"]
    paths = {}
    for name, rows in (("jul", july), ("oct", october)):
        for form in ("new", "old"):
            (tmp_path / f"{name}-{form}").mkdir()
            src = _synthetic(tmp_path / f"{name}-{form}", "ncci-ptp-practitioner", rows)
            paths[name, form] = Path(src.db.execute("PRAGMA database_list").fetchone()[2])
            src.db.close()
            if form == "old":
                to_row_layout(paths[name, form], layout, renumber=renumber)
    want = compare_ptp(paths["jul", "new"], paths["oct", "new"])
    assert {(e.column1, e.column2, e.kind) for e in want} >= {
        ("99213", "10000", "deleted"), ("99213", "93000", "modifier"), ("0001A", "99213", "added")}
    assert ("11042", "36415") not in {(e.column1, e.column2) for e in want}  # only the rationale changed
    for old, new in ((("jul", "old"), ("oct", "new")), (("jul", "new"), ("oct", "old")),
                     (("jul", "old"), ("oct", "old"))):
        assert compare_ptp(paths[old], paths[new]) == want, (old, new)
    back = compare_ptp(paths["oct", "old"], paths["jul", "new"])
    flip = {"added": "removed", "deleted": "reinstated"}
    assert [(e.column1, e.column2, e.kind) for e in back] == [
        (e.column1, e.column2, flip.get(e.kind, e.kind)) for e in want]


def test_a_file_without_edits_asks_for_an_import(tmp_path: Path) -> None:
    src = _source(tmp_path, "ccipra-v302r0-f1.txt")
    src.db.executescript("DROP TABLE by_c1;")
    with pytest.raises(BuildError, match="import it again"):
        src.grouped("45380", "c1")
