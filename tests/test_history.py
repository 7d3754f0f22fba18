"""Release history (generator/history): comparing releases, history blocks, badges, change pages and the
pages of deleted codes; on a small sample, and on the real FY2025 and FY2026 files."""
from __future__ import annotations

import csv
import gzip
import itertools
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from conftest import DATA, make_project, shared_data

from generator.errors import BuildError
from generator.history.compare import title_key
from generator.history.pages import successors
from generator.history.previous import read_codes
from generator.history.releases import applies, fiscal_year, from_source_line

SAMPLE_FY2025 = DATA / "icd10cm_fy2025_sample.tsv"


# ------------------------------------------------------------------------------------------- units


def test_titles_compare_without_accents_and_extra_spaces() -> None:
    assert title_key("Sézary disease") == title_key("Sezary disease")
    assert title_key("Ménière's  disease ") == title_key("Meniere's disease")
    assert title_key("Cutaneous abscess of back [any part, except buttock]") != title_key(
        "Cutaneous abscess of back [any part, except buttock and flank]"
    )


@pytest.mark.parametrize(("key", "added", "expected"), [
    ("S30.1XXA", ["S30.11XA", "S30.11XD", "S30.12XA", "S30.13XA", "S31.0XXA"],
     ["S30.11XA", "S30.12XA", "S30.13XA"]),
    ("T78.07XD", ["T78.070A", "T78.070D", "T78.071D", "T78.08XD"], ["T78.070D", "T78.071D"]),
    ("E11.02", ["E11.020", "E11.021", "E11.0"], ["E11.020", "E11.021"]),
    ("E11.02", ["E11.1"], []),
])
def test_successors_keep_the_stem_and_the_seventh_character(
    key: str, added: list[str], expected: list[str]
) -> None:
    assert successors(key, added) == expected


def test_releases_and_the_date_of_service() -> None:
    fy26 = from_source_line("icd-10-cm", "ICD-10-CM FY2026 (April 1, 2026 update), CDC")
    assert fy26 is not None
    assert (fy26.name, fy26.start, fy26.end, fy26.held_from) == (
        "FY2026", date(2025, 10, 1), date(2026, 9, 30), date(2026, 4, 1)
    )
    assert fy26.label == "ICD-10-CM FY2026 (April 1, 2026 update)"
    fy25 = fiscal_year("icd-10-cm", "FY2025", 2025, "ICD-10-CM FY2025")
    assert applies([fy25, fy26], date(2025, 9, 30)) is fy25
    assert applies([fy25, fy26], date(2025, 10, 1)) is fy26
    assert applies([fy25, fy26], date(2026, 10, 1)) is None
    assert applies([fy25, fy26], date(2024, 9, 30)) is None
    assert from_source_line("hcpcs", "HCPCS Level II, July 2024") is None


@pytest.mark.parametrize(("text", "message"), [
    ("code\tdesc\n", ":1: expected the header"),
    ("code\tcode_dot\tbillable\tshort_desc\tlong_desc\nA00\tA00\t2\tx\tCholera\n", ":2: not a code row"),
    ("code\tcode_dot\tbillable\tshort_desc\tlong_desc\nA00\tA00\t0\tx\n",
     ":2: expected 5 tab-separated cells"),
    ("code\tcode_dot\tbillable\tshort_desc\tlong_desc\nA00\tA00\t0\tx\tCholera\nA00\tA00\t0\tx\tCholera\n",
     ":3: A00 appears twice"),
    ("code\tcode_dot\tbillable\tshort_desc\tlong_desc\nA000\tA00.1\t1\tx\tCholera\n", ":2: not a code row"),
])
def test_bad_code_lists_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "icd10cm_fy2025.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BuildError, match=message):
        read_codes(path)


# ------------------------------------------------------------------------- the small sample, built


@pytest.fixture(scope="module")
def history_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample ICD-10-CM tabular (FY2026) with a small FY2025 code list beside it, built once."""
    from generator.build import build

    root = tmp_path_factory.mktemp("history") / "proj"
    site_yml = (
        "site_name: coderef test\nbase_url: https://codes.example.org\ncodesets: [icd-10-cm]\n"
        f"sources:\n  icd10cm: {DATA / 'icd10cm-sample.xml'}\n  icd10cm-fy2025: {SAMPLE_FY2025}\n"
    )
    make_project(root, site_yml=site_yml, pages=False, jobs=False)
    build(root, quiet=True, jobs=1)
    return root / "site"


def _page(site: Path, key: str) -> str:
    return (site / "icd-10-cm" / key / "index.html").read_text(encoding="utf-8")


def test_new_and_revised_codes_carry_a_badge_and_a_history_block(history_site: Path) -> None:
    new = _page(history_site, "E11.01")
    assert '<span class="badge badge-change badge-new">New in FY2026</span>' in new
    assert "New code (not in FY2025)." in new
    revised = _page(history_site, "E11.9")
    assert '<span class="badge badge-change badge-revised">Revised in FY2026</span>' in revised
    assert '<q class="title-old">Type 2 diabetes mellitus without complication</q>' in revised
    assert '<q class="title-new">Type 2 diabetes mellitus without complications</q>' in revised
    # A doubled space in the old title is no revision; a billable code that got subcodes is a status change.
    femur = _page(history_site, "S72")
    assert "badge-change" not in femur and "In every release held here (FY2025, FY2026), unchanged." in femur
    sprain = _page(history_site, "S73.1")
    assert "badge-change" not in sprain
    assert "Status changed: billable &#8594; header (not billable)." in sprain
    # Every code page says which release it shows and when that release is in force.
    for key in ("E11.01", "S72.001A", "S73.1XXS"):
        shows = "This page shows <strong>ICD-10-CM FY2026</strong>, in force 2025-10-01 to 2026-09-30."
        assert shows in _page(history_site, key)


def test_deleted_codes_keep_a_noindex_page_saying_what_to_use(history_site: Path) -> None:
    page = _page(history_site, "E11.02")
    assert '<meta name="robots" content="noindex">' in page
    assert "Deleted in FY2026" in page and "<strong>not in FY2026</strong>" in page
    assert "(sample code deleted in FY2026)" in page  # its FY2025 title
    assert '<a href="/icd-10-cm/E11.0/">' in page  # nearest code of today
    other = _page(history_site, "S73.2XXA")
    assert '<a href="/icd-10-cm/S73/">' in other and "added in its place" not in other
    sitemaps = "".join(p.read_text() for p in (history_site / "sitemaps").glob("*.xml"))
    assert "/icd-10-cm/E11.9/" in sitemaps and "E11.02" not in sitemaps and "S73.2XXA" not in sitemaps


def test_the_change_page_counts_and_lists(history_site: Path) -> None:
    page = (history_site / "icd-10-cm" / "changes" / "fy2026" / "index.html").read_text(encoding="utf-8")
    kinds = ("new", "revised", "deleted", "status")
    counts = {k: page.split(f'data-count="{k}">', 1)[1].split("<", 1)[0] for k in kinds}
    assert counts == {"new": "5", "revised": "1", "deleted": "2", "status": "1"}
    chapter4 = page.split('id="ch-chapter-4"', 1)[1].split('id="ch-chapter-19"', 1)[0]
    assert "/icd-10-cm/E11.01/" in chapter4
    assert "/icd-10-cm/E11.02/" in chapter4 and "/icd-10-cm/S72.002A/" not in chapter4
    # Within a chapter, by section: each section and each of its lists has an anchor the contents link to.
    diabetes = chapter4.split('id="sec-E08-E13"', 1)[1]
    assert '<h3 id="h-sec-E08-E13"><a href="/icd-10-cm/E08-E13/">E08-E13</a>' in diabetes
    for kind, keys in [("new", ["E11.01"]), ("revised", ["E11.9"]), ("deleted", ["E11.02"])]:
        listed = diabetes.split(f'id="sec-E08-E13-{kind}"', 1)[1].split("</section>", 1)[0]
        assert re.findall(r'href="/icd-10-cm/([^/]+)/"', listed) == keys
    hip = page.split('id="sec-S70-S79"', 1)[1]
    assert 'id="sec-S70-S79-new"' in hip and 'id="sec-S70-S79-status"' in hip
    assert "/icd-10-cm/S73.2XXA/" in hip
    toc = page.split('<nav class="toc changes-toc"', 1)[1].split("</nav>", 1)[0]
    anchors = re.findall(r'href="#([^"]+)"', toc)
    assert anchors == ["ch-chapter-4", "sec-E08-E13", "ch-chapter-19", "sec-S70-S79"]
    assert all(f'id="{a}"' in page for a in anchors)
    assert '<a href="#sec-E08-E13">E08-E13 — Diabetes mellitus (E08-E13)</a> (3)</li>' in toc  # the 3 above
    assert '<a href="#sec-S70-S79">S70-S79 — Injuries to the hip and thigh (S70-S79)</a> (6)</li>' in toc
    index = (history_site / "icd-10-cm" / "changes" / "index.html").read_text(encoding="utf-8")
    assert '<a href="/icd-10-cm/changes/fy2026/">FY2026</a>' in index


def test_search_lookup_rows_carry_the_badge(history_site: Path) -> None:
    rows = {}
    for f in (history_site / "lookup" / "icd-10-cm").glob("*.json"):
        doc = json.loads(f.read_text())
        rows.update({r[0]: r for r in doc.get("codes", [])})
    assert rows["E11.01"][3:] == ["", "new", "New in FY2026"]
    assert rows["E11.9"][3:] == ["", "revised", "Revised in FY2026"]
    assert len(rows["S72.001A"]) == 3


# ------------------------------------------------------------------ the real FY2025 and FY2026 files


def _fold(text: str) -> str:
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(bare.split())


def _fy2026_titles(tabular: Path) -> dict[str, str]:
    """Every FY2026 code's title straight from the tabular XML: `<diag>` names, and each leaf under a
    7th-character rule with each of the rule's characters (placeholder X up to six characters)."""
    with gzip.open(tabular) as f:
        root = ET.parse(f).getroot()
    titles: dict[str, str] = {}

    def walk(el: ET.Element, rule: list[tuple[str, str]]) -> None:
        name, desc = el.findtext("name", "").strip(), " ".join(el.findtext("desc", "").split())
        own = el.find("sevenChrDef")
        if own is not None:
            rule = [(x.get("char", ""), " ".join((x.text or "").split())) for x in own.findall("extension")]
        titles[name] = desc
        kids = el.findall("diag")
        for kid in kids:
            walk(kid, rule)
        if not kids and rule:
            base = (name if "." in name else name + ".").ljust(7, "X")
            for char, meaning in rule:
                titles[base + char] = f"{desc}, {meaning}"

    for section in root.iter("section"):
        for diag in section.findall("diag"):
            walk(diag, [])
    return titles


def test_real_fy2026_changes_equal_a_direct_comparison_of_the_files(tmp_path: Path) -> None:
    data = shared_data() / "icd10cm"
    fy2025_file, tabular, code_list = (
        data / "icd10cm_fy2025_codes.tsv.gz", data / "icd10cm-tabular-April-1-2026.xml.gz",
        data / "code-list-April-2026.txt.gz",
    )
    # Independently of generator/: the two files, compared.
    with gzip.open(fy2025_file, "rt", encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t")
        old = {r["code_dot"]: (r["billable"] == "1", r["long_desc"]) for r in rows}
    with gzip.open(code_list, "rt", encoding="utf-8") as f:
        listed = [line.strip() for line in f if line.strip()]
    bare = [c for c in listed if "-" not in c and not c.isdigit()]
    dotted = {c: (c if len(c) == 3 else c[:3] + "." + c[3:]) for c in bare}
    prefixes = {c[:n] for c in bare for n in range(3, len(c))}
    new_codes = {dotted[c]: c not in prefixes for c in bare}  # billable = no longer code below it
    titles = _fy2026_titles(tabular)
    # The code list and the tabular name the same codes, but for the S06 7th characters D and S that the
    # tabular excludes only in prose (codes with 6th character 7 or 8).
    extra = set(titles) - set(new_codes)
    assert set(new_codes) <= set(titles) and extra
    assert all(k.startswith("S06.") and k[6] in "78" and k[7] in "DS" for k in extra)
    expected = {
        "new": sum(1 for k in new_codes if k not in old),
        "deleted": sum(1 for k in old if k not in new_codes),
        "revised": sum(1 for k in new_codes if k in old and _fold(old[k][1]) != _fold(titles[k])),
        "status": sum(1 for k, b in new_codes.items() if k in old and old[k][0] != b),
    }
    # The generator: the site's history of the same files, and the change page rendered from it.
    from generator.config import load_config
    from generator.errors import Problems
    from generator.history import attach_history
    from generator.history.pages import history_pages
    from generator.importers.icd10cm import Icd10CmImporter
    from generator.link import link
    from generator.render import site_context
    from generator.theme import Theme

    root = make_project(tmp_path / "proj", site_yml=(
        f"codesets: [icd-10-cm]\nsources:\n  icd10cm: {tabular}\n  icd10cm-fy2025: {fy2025_file}\n"
    ), pages=False, jobs=False)
    problems = Problems()
    cfg = load_config(root, problems)
    records = Icd10CmImporter().read_all(tabular)
    histories = attach_history(cfg, {"icd-10-cm": records})
    assert histories["icd-10-cm"].latest.counts() == expected
    model = link("icd-10-cm", records, problems)
    models = {"icd-10-cm": model}
    files = dict(history_pages(Theme.load(cfg, site_context(cfg, models)), models))
    page = files["icd-10-cm/changes/fy2026/index.html"].decode()
    for kind, n in expected.items():
        assert f'data-count="{kind}">{n}<' in page
    # The issue's examples: E11.A is new, L02.212's revised title shows both texts, a deleted code has a page.
    by_key = {r.key: r for r in records}
    assert by_key["E11.A"].change_label == "New in FY2026"
    history = next(s.html for s in by_key["L02.212"].sections if s.id == "history")
    assert "Cutaneous abscess of back [any part, except buttock]</q>" in history
    assert "Cutaneous abscess of back [any part, except buttock and flank]</q>" in history
    deleted = files["icd-10-cm/S30.1XXA/index.html"].decode()
    assert 'content="noindex"' in deleted and "/icd-10-cm/S30.11XA/" in deleted
    # CasePilot answers the same questions from the facts written from the same history (#17 item 4).
    from gate.assistant.answer import CasePilot
    from generator.assistant_facts import FactsJob

    job = FactsJob(cfg)
    job.write(models, [])
    job.publish()
    pilot = CasePilot(job.path)
    try:
        a = pilot.answer("Is E11.A a new code?")
        assert "Yes: ICD-10-CM E11.A is new in FY2026: it is not in FY2025." in a.text
        a = pilot.answer("What changed in L02.212?")
        assert ("title revised. Was \u201cCutaneous abscess of back [any part, except buttock]\u201d; now "
                "\u201cCutaneous abscess of back [any part, except buttock and flank]\u201d") in a.text
        a = pilot.answer("what replaced S30.1XXA")
        assert "S30.1XXA was deleted in FY2026" in a.text
        assert "/icd-10-cm/S30.11XA/" in {c.url for c in a.citations}
        a = pilot.answer("What's new in ICD-10-CM FY2026?")
        assert (f"new codes: {expected['new']}, revised titles: {expected['revised']}, deleted codes: "
                f"{expected['deleted']}, billable status changes: {expected['status']}.") in a.text
        a = pilot.answer("Which ICD-10-CM release applies to a date of service of 2025-11-03?")
        assert ("ICD-10-CM FY2026 (April 1, 2026 update), in force 2025-10-01 to 2026-09-30; the site holds "
                "its update of 2026-04-01") in a.text
        a = pilot.answer("Was E11.A valid on 2025-03-01?")
        assert "No: ICD-10-CM E11.A is not in ICD-10-CM FY2025, the release in force on 2025-03-01" in a.text
        a = pilot.answer("Was E11.A valid on 2025-11-03?")  # the site holds the April 1 update only
        assert a.kind == "unknown" and "applies from 2025-10-01 or from 2026-04-01" in a.text
    finally:
        pilot.close()


# ------------------------------------------------------------------------ `coderef releases`


def _releases(root: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from generator.cli import main

    code = main(["--root", str(root), "releases", *args])
    return code, capsys.readouterr().out


def test_releases_command_lists_and_answers_a_date_of_service(
    history_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = history_site.parent
    code, out = _releases(root, "--codeset", "icd-10-cm", capsys=capsys)
    assert code == 0
    assert "FY2026     2025-10-01 to 2026-09-30  ICD-10-CM FY2026" in out
    assert "FY2025     2024-10-01 to 2025-09-30  ICD-10-CM FY2025" in out
    assert out.index("FY2026") < out.index("FY2025")  # newest first
    for day, expected in [
        ("2025-09-30", "ICD-10-CM: ICD-10-CM FY2025, in force 2024-10-01 to 2025-09-30"),
        ("2025-10-01", "ICD-10-CM: ICD-10-CM FY2026, in force 2025-10-01 to 2026-09-30"),
        ("2024-09-30", "ICD-10-CM: no release held covers 2024-09-30"),
    ]:
        code, out = _releases(root, "--date", day, "--codeset", "icd-10-cm", capsys=capsys)
        assert code == 0 and out.startswith(expected)
    assert _releases(root, "--date", "2025-02-30", capsys=capsys)[0] == 2
    assert _releases(root, "--codeset", "icd-11", capsys=capsys)[0] == 2


def test_pfs_releases_follow_the_release_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rvu = tmp_path / "pprrvu_2024.tsv"
    rvu.write_text(
        "release\thcpcs\n" + "".join(f"{r}\t9921{n}\n" for n, r in enumerate(
            ["rvu24a_jan", "rvu24ar_jan", "rvu24b_apr", "rvu24c_jul", "rvu24c_jul"]
        )),
        encoding="utf-8",
    )
    root = make_project(tmp_path / "proj", site_yml=f"codesets: [icd-10-cm]\nsources:\n  pprrvu: {rvu}\n",
                        pages=False, jobs=False)
    code, out = _releases(root, "--codeset", "pfs", capsys=capsys)
    assert code == 0
    assert "RVU24AR    2024-03-09 to 2024-03-31" in out and "RVU24A     2024-01-01 to 2024-03-08" in out
    assert "RVU24C     2024-07-01 to 2024-09-30" in out
    for day, name in [("2024-03-08", "RVU24A,"), ("2024-03-09", "RVU24AR,"), ("2024-06-30", "RVU24B,"),
                      ("2024-07-01", "RVU24C,")]:
        assert name in _releases(root, "--date", day, "--codeset", "pfs", capsys=capsys)[1]
    assert "no release held covers 2024-10-01" in _releases(root, "--date", "2024-10-01", capsys=capsys)[1]
    rvu.write_text("release\thcpcs\nrvu24dr_oct\t99213\n", encoding="utf-8")
    code, out = _releases(root, capsys=capsys)
    assert code == 1 and "RVU24DR has no known start date" in out


# ------------------------------------------------------------------- RVU history (premium)


def test_rvu_quarters_are_a_protected_history_of_the_codes_that_changed(tmp_path: Path) -> None:
    from generator.build import build
    from generator.store_reader import StoreReader

    pprrvu = shared_data() / "mpfs" / "pprrvu_2024_quarters_noCPTdesc.tsv.gz"
    root = make_project(tmp_path / "proj", site_yml=(
        f"codesets: [hcpcs]\nsources:\n  pprrvu: {pprrvu}\n"
    ), pages=False, jobs=False)
    pages = root / "content" / "codes" / "hcpcs"
    pages.mkdir(parents=True)
    # J1020 went from status E to I on April 1, 2024; G0008's RVUs did not change (only the CF did).
    (pages / "J1020.md").write_text("---\ntitle: Injection, methylprednisolone acetate, 20 mg\n---\n")
    (pages / "G0008.md").write_text("---\ntitle: Administration of influenza virus vaccine\n---\n")
    build(root, quiet=True, jobs=1, search=False)
    site = (root / "site" / "hcpcs" / "J1020" / "index.html").read_text(encoding="utf-8")
    assert 'id="s-rvu-history"' in site and "RVU24AR (2024-03-09" not in site and "33.2875" not in site
    reader = StoreReader(root / "var" / "protected.sqlite")
    try:
        stored = {s.id: s.html for s in reader.sections("hcpcs", "J1020")}
        assert "rvu-history" not in {s.id for s in reader.sections("hcpcs", "G0008")}
    finally:
        reader.close()
    rows = stored["rvu-history"].split("<tr>")[2:]
    assert [r.split("</th>")[0].split(">")[-1] for r in rows] == [
        "RVU24A (2024-01-01 to 2024-03-08)", "RVU24AR (2024-03-09 to 2024-03-31)",
        "RVU24B (2024-04-01 to 2024-06-30)", "RVU24C (2024-07-01 to 2024-09-30)",
    ]
    assert [r.split("<td>")[1].split("<")[0] for r in rows] == ["E", "E", "I", "I"]
    assert [r.split("<td>")[-1].split("<")[0] for r in rows] == ["32.7442", "33.2875", "33.2875", "33.2875"]
    # The public change page names, per release pair, the codes that changed and in what; never a value.
    page = (root / "site" / "pfs" / "changes" / "index.html").read_text(encoding="utf-8")
    assert "32.7442" not in page and "33.2875" not in page
    listed = {
        (pair, *re.sub(r"<[^>]+>", "\t", row).split("\t\t")[:2])
        for pair, section in enumerate(page.split('<section class="block" id="pair-')[1:], 1)
        for row in re.findall(r'<tr><th scope="row">(.*?)</tr>', section)
    }
    assert (2, "J1020", "none") in {(p, c.strip("\t"), m.strip("\t")) for p, c, m in listed}  # AR -> B
    assert '<a href="/hcpcs/J1020/">J1020</a>' in page
    from test_html_validity import nu_check

    code, report = nu_check([str(root / "site" / "pfs" / "changes" / "index.html")])
    assert code == 0, report
    assert ">G0008<" not in page
    # Independently from the file: the (code, modifier) pairs whose compared cells differ, per release pair.
    compared = ("status_code", "work_rvu", "non_fac_pe_rvu", "facility_pe_rvu", "mp_rvu",
                "non_facility_total", "facility_total", "non_fac_indicator", "facility_indicator")
    by_release: dict[str, dict[tuple[str, str], tuple[str, ...]]] = {}
    with gzip.open(pprrvu, "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            by_release.setdefault(row["release"], {})[(row["hcpcs"].upper(), row["mod"].upper())] = tuple(
                row[c] for c in compared)
    tags = ["rvu24a_jan", "rvu24ar_jan", "rvu24b_apr", "rvu24c_jul"]
    for n, (old, new) in enumerate(itertools.pairwise(tags), 1):
        a, b = by_release[old], by_release[new]
        changed = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
        section = page.split(f'<section class="block" id="pair-{n}"')[1].split("</section>")[0]
        assert section.count('<tr><th scope="row">') == len(changed), (old, new)


def test_a_changed_earlier_release_rebuilds_the_site(tmp_path: Path) -> None:
    """The FY2025 file is an input of the build: replacing it is not a no-op."""
    from generator.build import build

    fy2025 = tmp_path / "icd10cm_fy2025.tsv"
    fy2025.write_bytes(SAMPLE_FY2025.read_bytes())
    site_yml = (
        "site_name: coderef test\nbase_url: https://codes.example.org\ncodesets: [icd-10-cm]\n"
        f"sources:\n  icd10cm: {DATA / 'icd10cm-sample.xml'}\n  icd10cm-fy2025: {fy2025}\n"
    )
    root = make_project(tmp_path / "proj", site_yml=site_yml, pages=False, jobs=False)
    build(root, quiet=True, jobs=1, search=False)
    assert build(root, quiet=True, jobs=1, search=False).mode == "noop"
    fy2025.write_text(SAMPLE_FY2025.read_text().replace("without complication\n", "without complications\n"))
    assert build(root, quiet=True, jobs=1, search=False).mode == "full"
    page = (root / "site" / "icd-10-cm" / "E11.9" / "index.html").read_text()
    assert "badge-revised" not in page and "In every release held here (FY2025, FY2026), unchanged." in page


def test_history_pages_validate(history_site: Path) -> None:
    from test_html_validity import nu_check

    files = [str(history_site / rel) for rel in (
        "icd-10-cm/changes/index.html", "icd-10-cm/changes/fy2026/index.html", "icd-10-cm/E11.02/index.html",
        "icd-10-cm/E11.01/index.html", "icd-10-cm/E11.9/index.html",
    )]
    code, report = nu_check(files)
    assert code == 0, report


def test_terminated_modifiers_are_flagged_like_codes(tmp_path: Path) -> None:
    """The modifier pages made from the `hcpcs-modifiers` import carry the same badge as codes."""
    import sqlite3

    from generator.config import SiteConfig
    from generator.importers.hcpcs import HcpcsImporter
    from generator.premium import import_premium, modifier_pages
    from generator.premium.db import data_file

    path = shared_data() / "hcpcs" / "HCPC2020_ANWEB_w_disclaimer.txt.gz"
    cfg = SiteConfig(root=tmp_path)
    import_premium(cfg, "hcpcs-modifiers", path)
    db = sqlite3.connect(data_file(cfg, "hcpcs-modifiers"))
    try:
        pages = {r.key: r for r in modifier_pages(db) if r.is_code}
    finally:
        db.close()
    assert len(pages) == 369
    flagged = {k: r.change_label for k, r in pages.items() if r.change == "terminated"}
    read = [r for r in HcpcsImporter().read(path) if r.parent == "modifiers"]
    direct = {r.key: r.change_label for r in read if r.change}
    assert flagged == direct and flagged
    for key, label in flagged.items():
        assert label == f"Terminated {dict(pages[key].facts)['Termination date']}"


def test_releases_of_the_shipped_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`coderef releases` on the public record shipped in content/official (and the packaged tabular)."""
    import shutil

    from conftest import ROOT

    site_yml = "codesets: [icd-10-cm, icd-10-pcs, cpt, hcpcs]\n"
    root = make_project(tmp_path / "proj", site_yml=site_yml, pages=False, jobs=False)
    shutil.copytree(ROOT / "content" / "official", root / "content" / "official")
    code, out = _releases(root, capsys=capsys)
    assert code == 0
    for line in (
        "FY2026     2025-10-01 to 2026-09-30 (this update from 2026-04-01)  ICD-10-CM FY2026 (April 1, 2026 "
        "update)",
        "FY2025     2024-10-01 to 2025-09-30  ICD-10-CM FY2025",
        "FY2024     2023-10-01 to 2024-09-30  ICD-10-PCS FY2024",
        "2024-07    2024-07-01 to 2024-09-30  HCPCS Level II July 2024",
        "2024-07    2024-07-01 to 2024-09-30  NCCI procedure-to-procedure edits July 2024",
        "RVU24A     2024-01-01 to 2024-03-08  PFS RVU24A", "RVU24C     2024-07-01 to 2024-09-30  PFS RVU24C",
    ):
        assert line in out, line
    code, out = _releases(root, "--date", "2025-11-03", capsys=capsys)
    assert out.splitlines()[0] == (
        "ICD-10-CM: ICD-10-CM FY2026 (April 1, 2026 update), in force 2025-10-01 to 2026-09-30; the site "
        "holds its update of 2026-04-01: codes that update added do not apply on 2025-11-03"
    )
    assert "Physician Fee Schedule RVUs: PFS RVU24B, in force 2024-04-01 to 2024-06-30" in _releases(
        root, "--date", "2024-05-15", capsys=capsys
    )[1]


def test_casepilot_answers_what_changed_from_the_history_block(history_site: Path) -> None:
    """"Is it new?", "what changed?": answered from the same comparison as the code page's history block."""
    from gate.assistant import CasePilot
    from generator.assistant_facts import facts_path
    from generator.config import SiteConfig

    pilot = CasePilot(facts_path(SiteConfig(root=history_site.parent)))
    new = pilot.answer("Is E11.01 new in FY2026?", None).text  # the release answers (answers_history)
    assert "E11.01 is new in FY2026" in new and "not in FY2025" in new
    revised = pilot.answer("what changed for this code", "icd-10-cm/E11.9").text
    assert ("title revised. Was \u201cType 2 diabetes mellitus without complication\u201d; now "
            "\u201cType 2 diabetes mellitus without complications\u201d") in revised
    status = pilot.answer("when was the status of S73.1 changed?", None).text
    assert "billable status changed from billable to header" in status
    # Asked without those words, the answer stays the code's facts; history is there for the asking.
    assert "Release history" not in pilot.answer("What is E11.01?", None).text
