"""The NCCI PTP conversion's fast path gives the plain reading's database, or steps aside for it."""
from __future__ import annotations

import gzip
import re
import sqlite3
from itertools import islice
from pathlib import Path

import pytest
from cms_fixtures import CMS
from ncci_layouts import edit_rows

from generator.errors import BuildError
from generator.premium import ncci_import
from generator.premium.ncci_import import ID_MASK, REST_SHIFT, NotPlain, convert, import_ptp, unpack

SHIPPED = Path(__file__).resolve().parent.parent / "content" / "official" / "ncci"
HEADER = "column1\tcolumn2\tmodifier\teffective\tdeletion\trationale\n"


Content = dict[str, list[tuple[object, ...]]]


def _content(path: Path) -> Content:
    """Every row of every table, with its rowid (what any query can see), the table and index
    definitions, and every edit unpacked ("edits": (c1, c2, eff, del, mod, rat) in column 1 order)."""
    db = sqlite3.connect(path)
    try:
        out = {t: db.execute(f"SELECT rowid, * FROM {t} ORDER BY rowid").fetchall()
               for t in ("codes", "rationale", "rest", "by_c1", "by_c2", "meta")}
        out["schema"] = db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
        out["edits"] = edit_rows(db)
        return out
    finally:
        db.close()


def _both(tmp_path: Path, src: Path, kind: str = "ncci-ptp-practitioner") -> tuple[Content, Content]:
    fast, plain = tmp_path / "fast.sqlite", tmp_path / "plain.sqlite"
    r1 = convert(kind, src, fast, None, fast=True)
    r2 = convert(kind, src, plain, None, fast=False)
    assert (r1.rows, r1.release, r1.note) == (r2.rows, r2.release, r2.note)
    return _content(fast), _content(plain)


def _alike_in_order(tmp_path: Path, src: Path, lines: list[str]) -> Content:
    """`src` (whose edit lines are `lines`) converted both ways: the same content, its rows in column 1
    order, each direction holding what the other does; the fast conversion's content."""
    fast, plain = _both(tmp_path, src)
    assert fast == plain
    _in_column_1_order(fast, lines)
    _both_ways_alike(fast)
    return fast


@pytest.mark.parametrize("name", ["ptp_practitioner_2024q3.tsv.gz", "ptp_outpatient_hospital_2024q3.tsv.gz"])
def test_the_shipped_files_first_lines_convert_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      name: str) -> None:
    """20,000 lines of each shipped file, read in small blocks (so rows, codes and rationales first
    met in a later block, and a partial last insert, are covered)."""
    sample = tmp_path / name.replace(".gz", "")
    with gzip.open(SHIPPED / name, "rt", encoding="utf-8", newline="") as f:
        sample.write_text("".join(islice(f, 20_001)), encoding="utf-8", newline="")
    monkeypatch.setattr(ncci_import, "BLOCK_CHARS", 50_000)
    fast, plain = _both(tmp_path, sample)
    assert fast == plain
    assert len(fast["edits"]) == 20_000 and len(fast["rationale"]) > 3
    assert any(row[3] is not None for row in fast["edits"]) and any(row[3] is None for row in fast["edits"])
    _in_column_1_order(fast, sample.read_text(encoding="utf-8").splitlines()[1:])
    _both_ways_alike(fast)


def test_the_official_layout_with_crlf_and_star_dates_is_plain(tmp_path: Path) -> None:
    src = CMS / "ccipra-v302r0-f1.txt"
    fast, plain = _both(tmp_path, src)
    assert fast == plain and len(fast["edits"]) == 11
    _in_column_1_order(fast, src.read_text(encoding="utf-8").splitlines()[2:])
    # edits are (c1, c2, eff, del, mod, rat): '*' deletion dates are NULL, one edit is deleted
    deleted = [row[3] for row in fast["edits"]]
    assert deleted.count(None) == 10 and 20231231 in deleted
    assert {row[2] for row in fast["edits"]} >= {20090101, 19960101, 20240701}
    _both_ways_alike(fast)


def test_lowercase_codes_padded_cells_odd_dates_and_ragged_lines_read_alike(tmp_path: Path) -> None:
    """Cells the plain reading strips and upper-cases, every date spelling, blank and '*' dates, a
    short line (its missing cells are blank) and a long one (the extra cell is ignored)."""
    p = tmp_path / "odd.tsv"
    p.write_text(HEADER + "".join(f"{r}\r\n" for r in [
        "45380\tg0105\t1\t2002-01-01\t\tMore extensive procedure",
        "g0105\t45380\t0 \t1/2/1998\t*\t Standards of medical/surgical practice ",
        "45380\tG0105\t9\t20240701\t12/31/2023\t",
        "99213\t36415\t1\t\t2023-12-31\tMore extensive procedure\textra",
        "36415\t99213\t1",
    ]), encoding="utf-8")
    fast, plain = _both(tmp_path, p)
    assert fast == plain
    # ids are the codes' base-36 values + 1, and the rows are in column 1 order (a code's in file order)
    codes = ("36415", "45380", "99213", "G0105")
    assert fast["codes"] == [(int(c, 36) + 1, int(c, 36) + 1, c) for c in codes]
    assert [row[2:] for row in fast["edits"]] == [
        (None, None, 1, None), (20020101, None, 1, 1), (20240701, 20231231, 9, None),
        (None, 20231231, 1, 1), (19980102, None, 0, 2)]


def _in_column_1_order(content: Content, lines: list[str]) -> None:
    """The edits as column 1 are the file's lines sorted by column 1, a code's lines in file order."""
    code = {i: c for _, i, c in content["codes"]}
    rows = [(code[r[0]], code[r[1]]) for r in content["edits"]]
    pairs = [(line[:5].upper(), line[6:11].upper()) for line in lines]
    assert rows == sorted(pairs, key=lambda p: p[0])


def _both_ways_alike(content: Content) -> None:
    """`by_c2` holds the edits of `by_c1` (as many times each), each code's sorted by rest and column 1."""
    rest = {r[1]: r[2:] for r in content["rest"]}
    as_c2 = [(c1, v & ID_MASK, *rest[v >> REST_SHIFT])
             for _, c1, blob in content["by_c1"] for v in unpack(blob)]
    as_c1 = []
    for _, c2, blob in content["by_c2"]:
        edits = list(unpack(blob))
        assert edits == sorted(edits)
        as_c1 += [(v & ID_MASK, c2, *rest[v >> REST_SHIFT]) for v in edits]
    assert sorted(as_c2, key=repr) == sorted(as_c1, key=repr) == sorted(content["edits"], key=repr)


def test_one_column_2_code_and_rest_spelled_two_ways_reads_alike(tmp_path: Path) -> None:
    """Remainders after column 1 that differ only in spelling (a lower-case code, a padded indicator)
    are one (column 2, rest): their column 1 codes merge, sorted, and a repeated line stays twice."""
    lines = ["0001A\tg0105\t1\t\t\tx", "36415\tG0105\t1\t\t\tx", "45380\tg0105\t1\t\t\tx",
             "45380\tg0105\t1\t\t\tx", "99213\tG0105\t1 \t\t\tx", "99213\t36415\t1\t\t\tx"]
    p = tmp_path / "spelled.tsv"
    p.write_text(HEADER + "".join(f"{line}\n" for line in lines), encoding="utf-8")
    fast = _alike_in_order(tmp_path, p, lines)
    g0105 = [r for r in fast["by_c2"] if r[1] == int("G0105", 36) + 1]
    assert len(g0105) == 1 and len(unpack(g0105[0][2])) == 5 and len(fast["rest"]) == 1


def test_a_file_not_in_column_1_order_is_reordered_alike(tmp_path: Path) -> None:
    """Runs of one code out of order, a code coming back after others (the bisection's span then
    holds other codes' lines) and a code split over blocks."""
    lines = ["99213\t36415\t1", "45380\t45378\t0", "45380\t45379\t1", "G0105\t45380\t0",
             "45380\t45381\t1", "45380\t45382\t9", "36415\t99213\t1", "99213\t36416\t1"] * 3
    p = tmp_path / "unsorted.tsv"
    p.write_text(HEADER + "".join(f"{line}\t\t\tx\n" for line in lines), encoding="utf-8")
    _alike_in_order(tmp_path, p, lines)


def test_a_sorted_file_read_in_small_blocks_keeps_its_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    lines = sorted(f"{c1}\t{c2}\t{m}" for c1 in ("0001A", "36415", "45380", "99213", "G0105")
                   for c2 in ("45378", "36416", "J0001") for m in "019")
    p = tmp_path / "sorted.tsv"
    p.write_text(HEADER + "".join(f"{line}\t\t\tx\n" for line in lines), encoding="utf-8")
    monkeypatch.setattr(ncci_import, "BLOCK_CHARS", 100)
    fast, plain = _both(tmp_path, p)
    assert fast == plain
    _in_column_1_order(fast, lines)


@pytest.mark.parametrize("body", [
    '45380\t"45378"\t1\t\t\tquoted\n',  # a quote: the csv reading of that line
    "45380\t45378\t1\t\t\tx\n\n99213\t36415\t1\t\t\tx\n",  # a blank line
    " 45380\t45378\t1\t\t\tx\n",  # a padded code
    "45380\t45378\n",  # no indicator
])
def test_a_file_that_is_not_plain_goes_to_the_plain_reading(tmp_path: Path, body: str) -> None:
    p = tmp_path / "odd.tsv"
    p.write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(NotPlain):
        convert("ncci-ptp-practitioner", p, tmp_path / "fast.sqlite", None, fast=True)
    assert not (tmp_path / "fast.sqlite").exists() and not (tmp_path / "fast.sqlite.new").exists()
    out = tmp_path / "auto.sqlite"
    try:
        auto = import_ptp("ncci-ptp-practitioner", p, out)
    except BuildError as exc:  # what the plain reading says of it
        with pytest.raises(BuildError, match=re.escape(str(exc))):
            convert("ncci-ptp-practitioner", p, tmp_path / "plain.sqlite", None, fast=False)
        return
    plain = convert("ncci-ptp-practitioner", p, tmp_path / "plain.sqlite", None, fast=False)
    assert auto.rows == plain.rows and _content(out) == _content(tmp_path / "plain.sqlite")


@pytest.mark.parametrize(("row", "message"), [
    ("45385\t4537\t0\t\t\tx",
     r"bad.tsv:4: column 1 '45385' / column 2 '4537' is not a pair of 5-character codes"),
    ("45385\t45378\t5\t\t\tx", r"bad.tsv:4: modifier indicator '5' must be 0, 1 or 9"),
    ("45385\t45378\t0\t2024-13\t\tx", r"bad.tsv:4: '2024-13' is not a date"),
])
def test_bad_values_are_reported_with_their_line(tmp_path: Path, row: str, message: str) -> None:
    p = tmp_path / "bad.tsv"
    p.write_text(HEADER + "45380\t45378\t0\t\t\tx\n99213\t36415\t1\t\t\ty\n" + row + "\n", encoding="utf-8")
    with pytest.raises(BuildError, match=message):
        import_ptp("ncci-ptp-practitioner", p, tmp_path / "x.sqlite")
    assert not (tmp_path / "x.sqlite").exists()
