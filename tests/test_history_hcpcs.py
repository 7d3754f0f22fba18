"""HCPCS Level II release history: CMS's January 2020 file (shipped, kind `hcpcs-earlier`) held beside the
July 2024 file; history blocks, badges, the change page, deleted codes, `coderef releases`, CasePilot.

The shipped files are in content/official, so nothing here needs ../shared.
"""
from __future__ import annotations

import csv
import gzip
import json
import re
from pathlib import Path

import pytest
from conftest import ROOT, make_project

OFFICIAL = ROOT / "content" / "official" / "hcpcs"
JAN_2020 = OFFICIAL / "HCPC2020_ANWEB_w_disclaimer.txt.gz"
JUL_2024 = OFFICIAL / "hcpcs_level2_2024-07.tsv.gz"


def _project(root: Path, current: Path, earlier: Path) -> Path:
    return make_project(root, site_yml=(
        "site_name: coderef test\nbase_url: https://codes.example.org\ncodesets: [hcpcs]\n"
        f"sources:\n  hcpcs: {current}\n  hcpcs-earlier: {earlier}\n"
    ), pages=False, jobs=False)


@pytest.fixture(scope="module")
def hcpcs_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HCPCS site of the two shipped files, built once."""
    from generator.build import build

    root = _project(tmp_path_factory.mktemp("hcpcs-history") / "proj", JUL_2024, JAN_2020)
    build(root, quiet=True, jobs=1)
    return root / "site"


def _page(site: Path, key: str) -> str:
    return (site / "hcpcs" / key / "index.html").read_text(encoding="utf-8")


def _history(page: str) -> str:
    block = page.split('id="s-history"', 1)[1].split("</section>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", block).split())


# ------------------------------------------------- the two files compared directly (not via generator/)


def _read_2020(path: Path) -> dict[str, tuple[str, str]]:
    """code -> (long description, termination date) from CMS's fixed-width file: record id 3 starts a
    code, 4 continues its long description (columns 12-91); termination date in columns 285-292."""
    out: dict[str, tuple[list[str], str]] = {}
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="cp1252") as f:
        for line in f:
            code, recid = line[0:5].strip(), line[10:11]
            if not re.fullmatch(r"[A-Z]\d{4}", code) or recid not in "34" or not line[5:10].isdigit():
                continue
            if recid == "3":
                out[code] = ([line[11:91].strip()], line[284:292].strip())
            else:
                out[code][0].append(line[11:91].strip())
    return {k: (" ".join(p for p in parts if p), ended) for k, (parts, ended) in out.items()}


def _read_2024(path: Path) -> dict[str, tuple[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        return {r["hcpcs_code"]: (r["long_description"], r["date_term"])
                for r in csv.DictReader(f, delimiter="\t")}


def _expected(old: dict[str, tuple[str, str]], new: dict[str, tuple[str, str]]) -> dict[str, int]:
    def same(a: str, b: str) -> bool:
        return a.split() == b.split()

    ended_2020 = {k for k, (_, d) in old.items() if d and d < "20200101"}
    ended_2024 = {k for k, (_, d) in new.items() if d and d < "2024-07-01"}
    both = new.keys() & old.keys()
    return {
        "new": len(new.keys() - old.keys()),
        "revised": sum(1 for k in both if not same(old[k][0], new[k][0])),
        "terminated": len({k for k in both if k in ended_2024 and k not in ended_2020}),
        "deleted": len(old.keys() - new.keys()),
    }


def test_the_change_page_counts_equal_a_direct_comparison_of_the_shipped_files(hcpcs_site: Path) -> None:
    expected = _expected(_read_2020(JAN_2020), _read_2024(JUL_2024))
    assert expected["new"] > 1000 and expected["revised"] > 200 and expected["terminated"] > 300
    page = (hcpcs_site / "hcpcs" / "changes" / "2024-07" / "index.html").read_text(encoding="utf-8")
    counts = {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', page)}
    assert counts == expected
    # The lists hold exactly as many entries, each code once, grouped under its letter.
    for kind, n in expected.items():
        listed = re.findall(rf'id="ch-[A-Z]-codes-{kind}".*?</ul>', page, re.S)
        assert sum(len(re.findall(r'<li><a href="/hcpcs/', block)) for block in listed) == n, kind
    assert "The two releases held here are 2020-01 and 2024-07" in page
    assert "these lists span every update in between" in page
    toc = page.split('<nav class="toc changes-toc"', 1)[1].split("</nav>", 1)[0]
    anchors = re.findall(r'href="#([^"]+)"', toc)
    assert anchors[:2] == ["ch-A-codes", "ch-B-codes"] and all(f'id="{a}"' in page for a in anchors)
    assert "/hcpcs/A2001/" in page.split('id="ch-A-codes-new"', 1)[1].split("</ul>", 1)[0]
    # The code set page and the change index link it.
    assert '<a href="/hcpcs/changes/">' in (hcpcs_site / "hcpcs" / "index.html").read_text(encoding="utf-8")
    index = (hcpcs_site / "hcpcs" / "changes" / "index.html").read_text(encoding="utf-8")
    assert '<a href="/hcpcs/changes/2024-07/">2024-07</a>' in index


def test_code_pages_carry_their_history_and_badge(hcpcs_site: Path) -> None:
    old, new = _read_2020(JAN_2020), _read_2024(JUL_2024)
    # New since 2020: A2001 (CMS added it 2022-01-01).
    assert "A2001" not in old and "A2001" in new
    page = _page(hcpcs_site, "A2001")
    assert '<span class="badge badge-change badge-new">New since 2020-01</span>' in page
    text = _history(page)
    assert "This page shows HCPCS Level II July 2024 , in force 2024-07-01 to 2024-09-30." in text
    assert "New code (not in 2020-01). CMS's file gives its added date as 2022-01-01." in text
    assert "the change came in one of the updates between them" in text
    assert 'href="/hcpcs/changes/2024-07/"' in page
    # Revised: A9276's long description, old and new.
    assert old["A9276"][0] != new["A9276"][0]
    page = _page(hcpcs_site, "A9276")
    assert '<span class="badge badge-change badge-revised">Revised since 2020-01</span>' in page
    assert f'<q class="title-old">{old["A9276"][0]}</q>' in page
    assert f'<q class="title-new">{new["A9276"][0]}</q>' in page
    # Terminated between the two: A4397 (2021-12-31) keeps its Terminated badge; the block says when.
    assert old["A4397"][1] == "" and new["A4397"][1] == "2021-12-31"
    page = _page(hcpcs_site, "A4397")
    assert '<span class="badge badge-change badge-terminated">Terminated 2021-12-31</span>' in page
    assert "Terminated 2021-12-31 (active in 2020-01)" in _history(page)
    # Added and terminated in between: new, and the block says it was terminated.
    assert "C1834" not in old and new["C1834"][1] == "2023-03-31"
    assert "New code (not in 2020-01). CMS's file gives its added date as 2022-10-01. Terminated " \
           "2023-03-31." in _history(_page(hcpcs_site, "C1834"))
    # Unchanged: no badge, in both releases.
    page = _page(hcpcs_site, "A0021")
    assert "badge-change" not in page
    assert "In every release held here (2020-01, 2024-07), unchanged." in _history(page)


def test_search_rows_carry_the_badges(hcpcs_site: Path) -> None:
    rows = {}
    for f in (hcpcs_site / "lookup" / "hcpcs").glob("*.json"):
        rows.update({r[0]: r for r in json.loads(f.read_text()).get("codes", [])})
    assert rows["A2001"][-2:] == ["new", "New since 2020-01"]
    assert rows["A9276"][-2:] == ["revised", "Revised since 2020-01"]
    assert rows["A4397"][-2:] == ["terminated", "Terminated 2021-12-31"]


def test_releases_command_lists_both_hcpcs_releases(
    hcpcs_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from generator.cli import main

    assert main(["--root", str(hcpcs_site.parent), "releases", "--codeset", "hcpcs"]) == 0
    out = capsys.readouterr().out
    assert "2024-07    2024-07-01 to 2024-09-30  HCPCS Level II July 2024" in out
    assert "2020-01    2020-01-01 to 2020-03-31  HCPCS Level II January 2020" in out
    assert main(["--root", str(hcpcs_site.parent), "releases", "--codeset", "hcpcs", "--date",
                 "2020-02-10"]) == 0
    assert "HCPCS Level II January 2020, in force 2020-01-01 to 2020-03-31" in capsys.readouterr().out


def test_casepilot_answers_hcpcs_release_questions(hcpcs_site: Path) -> None:
    from gate.assistant import CasePilot
    from generator.assistant_facts import facts_path
    from generator.config import SiteConfig

    pilot = CasePilot(facts_path(SiteConfig(root=hcpcs_site.parent)))
    try:
        new = pilot.answer("Is A2001 new?", None).text
        assert "A2001 is new since 2020-01: it is not in 2020-01 and is in 2024-07" in new
        assert "added date as 2022-01-01" in new
        revised = pilot.answer("What changed in A9276?", None).text
        assert "Between 2020-01 and 2024-07: title revised." in revised
        assert "for use with non-durable medical equipment interstitial" in revised
        ended = pilot.answer("What changed in A4397?", None).text
        assert "terminated, with the termination date 2021-12-31 (it was active in 2020-01" in ended
        same = pilot.answer("Is A0021 new?", None).text
        assert "not new in 2024-07" in same and "same long description, and not terminated" in same
        assert "CMS's file gives its added date as 1985-01-01." in same
        # Valid on a date of service: from the added and termination dates CMS's file gives each code,
        # also between the two releases held (no release held covers 2021-06-01).
        text = pilot.answer("Was C1834 valid on 2024-08-01?", None).text
        assert "No: HCPCS Level II C1834 was terminated before 2024-08-01" in text
        assert "added 2022-10-01, terminated 2023-03-31" in text
        text = pilot.answer("Was A4397 valid on 2021-06-01?", None).text
        assert "Yes: HCPCS Level II A4397 is valid on 2021-06-01" in text
        text = pilot.answer("Was A2001 valid on 2021-06-01?", None).text
        assert "No: HCPCS Level II A2001 was not yet a code on 2021-06-01" in text
        release = pilot.answer("What's new in HCPCS?", None).text
        expected = _expected(_read_2020(JAN_2020), _read_2024(JUL_2024))
        assert (f"new codes: {expected['new']}, revised titles: {expected['revised']}, terminated codes: "
                f"{expected['terminated']}, deleted codes: 0.") in release
        assert "the updates between them are not held separately" in release
    finally:
        pilot.close()


def test_codes_gone_from_the_newer_file_get_a_deleted_page(tmp_path: Path) -> None:
    """The shipped July 2024 file keeps every 2020 code; a copy without A4300 and A4301 (A4 codes only, to
    build fast) shows the deleted-code page."""
    from generator.build import build

    with gzip.open(JUL_2024, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    kept = [lines[0]] + [x for x in lines[1:] if x.startswith("A4") and x[:5] not in ("A4300", "A4301")]
    current = tmp_path / "hcpcs_2024-07_a4.tsv"
    current.write_text("\n".join(kept) + "\n", encoding="utf-8")
    with gzip.open(JAN_2020, "rt", encoding="cp1252", newline="") as f:
        raw = f.read().splitlines(keepends=True)
    earlier = tmp_path / "HCPC2020_ANWEB_a4.txt"
    kept_2020 = (x for x in raw if x.startswith("A4") or not re.match(r"^[ A-Z0-9]{5}\d{5}", x))
    earlier.write_text("".join(kept_2020), encoding="cp1252", newline="")
    old = _read_2020(earlier)
    assert {"A4300", "A4301"} <= old.keys()
    root = _project(tmp_path / "proj", current, earlier)
    build(root, quiet=True, jobs=1, search=False)
    site = root / "site"
    page = _page(site, "A4300")
    assert '<meta name="robots" content="noindex">' in page and "Deleted in 2024-07" in page
    assert f"{old['A4300'][0]}</span>" in page and "was a code in HCPCS Level II January 2020" in page
    assert '<a href="/hcpcs/A-codes/">' in page  # its letter's group
    changes = (site / "hcpcs" / "changes" / "2024-07" / "index.html").read_text(encoding="utf-8")
    assert 'data-count="deleted">2<' in changes
    deleted = changes.split('id="ch-A-codes-deleted"', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r'href="/hcpcs/([^/]+)/"', deleted) == ["A4300", "A4301"]
    sitemaps = "".join(p.read_text() for p in (site / "sitemaps").glob("*.xml"))
    assert "/hcpcs/A4300/" not in sitemaps and "/hcpcs/A4206/" in sitemaps


def test_hcpcs_history_pages_validate(hcpcs_site: Path) -> None:
    from test_html_validity import nu_check

    files = [str(hcpcs_site / "hcpcs" / rel / "index.html") for rel in (
        "", "changes", "changes/2024-07", "A2001", "A4397", "A9276", "C1834",
    )]
    code, report = nu_check(files)
    assert code == 0, report
