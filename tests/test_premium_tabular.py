"""Finding CMS columns by header name, whatever the case, spacing, punctuation or header lines."""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from generator.errors import BuildError
from generator.premium.tabular import Column, Table, parse_date

COLS = (
    Column("column 1", ("column1",)),
    Column("column 2", ("column2",)),
    Column("modifier indicator", ("modifierindicator", "modifier")),
    Column("rationale", ("rationale",), required=False),
)


def _rows(path: Path) -> list[tuple[str, str, str]]:
    t = Table(path, COLS, "a test table")
    return [(t.get(c, "column 1"), t.get(c, "column 2"), t.get(c, "modifier indicator")) for _, c in t.rows()]


def test_header_names_match_without_case_spacing_or_punctuation(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text(" RATIONALE ,COLUMN_1, column-2 ,Modifier  Indicator\nwhy,45380,45378,0\n", encoding="utf-8")
    assert _rows(p) == [("45380", "45378", "0")]


def test_copyright_lines_and_a_header_split_over_lines(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text(
        '"CPT only copyright 2023 American Medical Association, all rights reserved."\n'
        "Column 1,Column 2,Modifier\n"
        ",,0=not allowed 1=allowed\n"
        "45380,45378,0\n",
        encoding="utf-8",
    )
    t = Table(p, COLS, "a test table")
    assert t.headers[2] == "Modifier 0=not allowed 1=allowed"
    assert [(line, c[:3]) for line, c in t.rows()] == [(4, ["45380", "45378", "0"])]


def test_missing_columns_are_named(tmp_path: Path) -> None:
    p = tmp_path / "bad.tsv"
    p.write_text("column 1\tcode b\tnotes\n45380\t45378\tx\n", encoding="utf-8")
    with pytest.raises(BuildError) as exc:
        Table(p, COLS, "an NCCI PTP file")
    msg = str(exc.value)
    assert str(p) in msg and "'column 2'" in msg and "'modifier indicator'" in msg
    assert "'column 1'" not in msg.split("missing")[1].split("(")[0]


def test_gzip_and_windows_1252(tmp_path: Path) -> None:
    p = tmp_path / "x.tsv.gz"
    with gzip.open(p, "wb") as fh:
        fh.write(
            "column1\tcolumn2\tmodifier\trationale\r\n45380\t45378\t1\tCMS\xae policy\r\n".encode("cp1252")
        )
    t = Table(p, COLS, "a test table")
    assert [t.get(c, "rationale") for _, c in t.rows()] == ["CMS® policy"]


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.csv"
    p.write_text("\n\n", encoding="utf-8")
    with pytest.raises(BuildError, match="empty"):
        Table(p, COLS, "a test table")


def test_dates() -> None:
    assert parse_date("20240701") == 20240701
    assert parse_date("2024-07-01") == 20240701
    assert parse_date("7/1/2024") == 20240701
    assert parse_date("*") is None and parse_date("") is None
    with pytest.raises(ValueError, match="not a date"):
        parse_date("July")


def test_quoted_tab_separated_cells_lose_their_csv_quotes(tmp_path: Path) -> None:
    # CMS's HCPCS spreadsheet saved as TSV: cells holding a quote mark are quoted, quotes doubled.
    p = tmp_path / "x.tsv"
    p.write_text(
        "column1\tcolumn2\tmodifier\trationale\n"
        '45380\t45378\t1\t"""y set"" tubing"\n'
        '45381\t45378\t0\t"Ext wear ost skn barr <=4sq"""\n'
        '45382\t45378\t0\tcasters 5" or greater\n',
        encoding="utf-8",
    )
    t = Table(p, COLS, "a test table")
    got = [(line, t.get(c, "column 1"), t.get(c, "rationale")) for line, c in t.rows()]
    assert got == [
        (2, "45380", '"y set" tubing'),
        (3, "45381", 'Ext wear ost skn barr <=4sq"'),
        (4, "45382", 'casters 5" or greater'),
    ]


@pytest.mark.parametrize(
    ("name", "release"),
    [
        ("HCPC2020_ANWEB_w_disclaimer.txt.gz", "2020-01-01"),  # CMS's annual file: its January release
        ("HCPC2024_JUL_ANWEB_v3.txt", "2024-07-01"),
        ("HCPC2024_OCT_ANWEB.txt", "2024-10-01"),
        ("hcpcs_level2_2024-07.tsv.gz", "2024-07-01"),
        ("mue_practitioner_2024-07-01.tsv.gz", "2024-07-01"),
        ("ptp_practitioner_2024q3.tsv.gz", "2024-07-01"),
        ("MCR_MUE_PractitionerServices_Eff_10-01-2024.csv", "2024-10-01"),
        ("jan2024.txt", "2024-01-01"),
        ("codes.txt", ""),
        ("2024_julyish.txt", ""),
    ],
)
def test_release_dates_read_from_file_names(name: str, release: str) -> None:
    from generator.premium.db import release_from_name

    assert release_from_name(name) == release


@pytest.mark.parametrize("with_rationale", [True, False])
def test_getter_gives_what_get_gives_for_short_rows_and_absent_columns(
    tmp_path: Path, with_rationale: bool
) -> None:
    p = tmp_path / "x.tsv"
    head = "column1\tcolumn2\tmodifier" + ("\trationale" if with_rationale else "")
    p.write_text(f"{head}\n 45380 \t45378\t0\twhy \n45381\t45379\n45382\n", encoding="utf-8")
    t = Table(p, COLS, "a test table")
    names = ("rationale", "column 1", "modifier indicator", "column 2")
    pick = t.getter(names)
    got = [(pick(c), tuple(t.get(c, n) for n in names)) for _, c in t.rows()]
    assert [a for a, _ in got] == [b for _, b in got]
    rationale = "why" if with_rationale else ""
    assert [a for a, _ in got] == [(rationale, "45380", "0", "45378"), ("", "45381", "", "45379"),
                                   ("", "45382", "", "")]
