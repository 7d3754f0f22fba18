"""NCCI PTP and MUE quarters held side by side (generator/premium/releases.py) and their history
(generator/history/ncci_compare.py, ncci_mue.py): a later quarter derived from the shipped files is
imported next to them; `coderef releases`, the date of service, the protected NCCI/MUE history section,
the public /ncci/changes/ page, and nothing protected in site/.

Only one quarter is shipped: the tests take a slice of the shipped files (a few column 1 codes, the first
MUE rows) as the July 2024 quarter and change a few rows of it for October 2024, as bench/stages.py does.
"""
from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, make_project

OFFICIAL = ROOT / "content" / "official"
PTP = "ncci/ptp_practitioner_2024q3.tsv.gz"
MUE = "mue/mue_practitioner_2024-07-01.tsv.gz"
COLUMN1 = {"99213", "99214", "29881", "G0008"}


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))


def _write(rows: list[dict[str, str]], path: Path) -> None:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter="\t", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    data = out.getvalue().encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)


def _july() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The July 2024 slice of the shipped practitioner files."""
    with gzip.open(OFFICIAL / PTP, "rt", encoding="utf-8") as f:
        head = f.readline()
        ptp = _rows(head + "".join(line for line in f if line.split("\t", 1)[0] in COLUMN1))
    with gzip.open(OFFICIAL / MUE, "rt", encoding="utf-8") as f:
        mue = _rows("".join(line for _, line in zip(range(401), f, strict=False)))
    return ptp, mue


def _october(ptp: list[dict[str, str]], mue: list[dict[str, str]]
             ) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """October 2024: two edits deleted, one modifier indicator changed, one edit added; one MUE value
    changed, one indicator changed, one MUE dropped. Only pairs listed once are touched."""
    pairs = [(r["column1"], r["column2"]) for r in ptp]
    once = [r for r in ptp if pairs.count((r["column1"], r["column2"])) == 1 and not r["deletion_date"]]
    new_ptp = [dict(r) for r in ptp]
    by_pair = {(r["column1"], r["column2"]): r for r in new_ptp}
    for r in once[:2]:
        by_pair[(r["column1"], r["column2"])]["deletion_date"] = "2024-12-31"
    flip = next(r for r in once[2:] if r["modifier_indicator"] in "01")
    other = "0" if flip["modifier_indicator"] == "1" else "1"
    by_pair[(flip["column1"], flip["column2"])]["modifier_indicator"] = other
    new_ptp.append({**ptp[0], "column1": "99213", "column2": "0999T", "deletion_date": "",
                    "modifier_indicator": "1"})
    new_mue = [dict(r) for r in mue]
    new_mue[10]["mue_value"] = str(int(new_mue[10]["mue_value"]) + 7)
    mai = new_mue[20]["mue_adjudication_indicator"]
    new_mue[20]["mue_adjudication_indicator"] = "1" if mai != "1" else "2"
    del new_mue[30]
    return new_ptp, new_mue


def _changed_pairs(old: list[dict[str, str]], new: list[dict[str, str]]) -> set[tuple[str, str]]:
    """Independently of generator/: the (column 1, column 2) pairs whose rows differ."""
    def rows(table: list[dict[str, str]]) -> dict[tuple[str, str], set[tuple[str, str]]]:
        out: dict[tuple[str, str], set[tuple[str, str]]] = {}
        for r in table:
            row = (r["deletion_date"], r["modifier_indicator"])
            out.setdefault((r["column1"], r["column2"]), set()).add(row)
        return out

    a, b = rows(old), rows(new)
    return {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}


def _changed_mues(old: list[dict[str, str]], new: list[dict[str, str]]) -> set[str]:
    a = {r["hcpcs_cpt_code"]: (r["mue_value"], r["mue_adjudication_indicator"]) for r in old}
    b = {r["hcpcs_cpt_code"]: (r["mue_value"], r["mue_adjudication_indicator"]) for r in new}
    return {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}


def _cli(root: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> str:
    from generator.cli import main

    code = main(["--root", str(root), *args])
    out = capsys.readouterr().out
    assert code == 0, out
    return out


@pytest.fixture(scope="module")
def quarters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """A project with the July slice shipped, built; then the October files imported and built again."""
    from generator.build import build
    from generator.config import SiteConfig
    from generator.premium import import_premium

    base = tmp_path_factory.mktemp("ncci-history")
    root = make_project(base / "proj", pages=False, jobs=False, codesets="[cpt, hcpcs]")
    ptp, mue = _july()
    _write(ptp, root / "content" / "official" / PTP)
    _write(mue, root / "content" / "official" / MUE)
    first = build(root, quiet=True, jobs=1, search=False)
    new_ptp, new_mue = _october(ptp, mue)
    _write(new_ptp, base / "ptp_practitioner_2024q4.tsv")
    _write(new_mue, base / "mue_practitioner_2024-10-01.tsv")
    cfg = SiteConfig(root=root)
    imported = [import_premium(cfg, "ncci-ptp-practitioner", base / "ptp_practitioner_2024q4.tsv"),
                import_premium(cfg, "mue-practitioner", base / "mue_practitioner_2024-10-01.tsv")]
    second = build(root, quiet=True, jobs=1, search=False)
    yield {"root": root, "old": (ptp, mue), "new": (new_ptp, new_mue), "modes": (first.mode, second.mode),
           "imported": imported}


def _sections(root: Path, section: str) -> dict[str, str]:
    from generator.store_reader import StoreReader

    reader = StoreReader(root / "var" / "protected.sqlite")
    out = {}
    try:
        for codeset in ("cpt", "hcpcs"):
            folder = root / "site" / codeset
            for key in sorted(folder.iterdir()) if folder.is_dir() else []:
                for s in reader.sections(codeset, key.name):
                    if s.id == section:
                        out[key.name] = s.html
    finally:
        reader.close()
    return out


def test_an_import_of_another_quarter_keeps_both(quarters: dict[str, object]) -> None:
    root = quarters["root"]
    assert isinstance(root, Path)
    assert quarters["modes"] == ("clean", "full")
    notes = [r.note for r in quarters["imported"]]  # type: ignore[attr-defined]
    assert all("releases held: 2024-07-01, 2024-10-01; current: 2024-10-01" in n for n in notes), notes
    from generator.config import SiteConfig
    from generator.premium import normalised_file
    from generator.premium.releases import held_sources

    cfg = SiteConfig(root=root)
    held = held_sources(cfg, "mue-practitioner")
    assert [s.origin for s in held] == ["shipped", "imported"]
    assert normalised_file(cfg, "mue-practitioner") == root / "data" / "premium" / "mue-practitioner.sqlite"
    # The current release is the newest: the MUE section shows October's value.
    _, new_mue = quarters["new"]  # type: ignore[misc]
    changed = new_mue[10]
    mue = _sections(root, "mue")[changed["hcpcs_cpt_code"]]
    assert f"<td>{changed['mue_value']}</td>" in mue and "effective 2024-10-01" in mue


def test_releases_lists_both_quarters_and_the_date_of_service_picks_one(
    quarters: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    root = quarters["root"]
    assert isinstance(root, Path)
    out = _cli(root, "releases", "--codeset", "ncci", capsys=capsys)
    assert "2024-10    2024-10-01 to 2024-12-31  NCCI procedure-to-procedure edits October 2024" in out
    assert "2024-07    2024-07-01 to 2024-09-30  NCCI procedure-to-procedure edits July 2024" in out
    out = _cli(root, "releases", "--codeset", "mue", capsys=capsys)
    assert "2024-10    2024-10-01 to 2024-12-31" in out and "2024-07    2024-07-01 to 2024-09-30" in out
    assert "NCCI procedure-to-procedure edits July 2024, in force 2024-07-01 to 2024-09-30" in _cli(
        root, "releases", "--codeset", "ncci", "--date", "2024-08-15", capsys=capsys)
    assert "Medically unlikely edits October 2024, in force 2024-10-01 to 2024-12-31" in _cli(
        root, "releases", "--codeset", "mue", "--date", "2024-11-01", capsys=capsys)
    from gate.assistant import CasePilot
    from generator.assistant_facts import facts_path
    from generator.config import SiteConfig

    pilot = CasePilot(facts_path(SiteConfig(root=root)))
    try:
        text = pilot.answer("Which NCCI release applies to a date of service of 2024-08-15?", None).text
        assert "NCCI edits on 2024-08-15: NCCI procedure-to-procedure edits July 2024" in text
        text = pilot.answer("Which MUE release applies to a date of service of 2024-11-01?", None).text
        assert "MUEs on 2024-11-01: Medically unlikely edits October 2024" in text
    finally:
        pilot.close()


def test_the_history_section_shows_exactly_the_rows_changed(quarters: dict[str, object]) -> None:
    root = quarters["root"]
    assert isinstance(root, Path)
    (ptp, mue), (new_ptp, new_mue) = quarters["old"], quarters["new"]  # type: ignore[misc]
    pairs = _changed_pairs(ptp, new_ptp)
    mues = _changed_mues(mue, new_mue)
    assert len(pairs) == 4 and len(mues) == 3
    sections = _sections(root, "ncci-mue-history")
    codes_with_pages = set(sections)
    expected_codes = {c for p in pairs for c in p} | mues
    # Every code that changed and has a page has the section; no other code has it.
    assert codes_with_pages == {c for c in expected_codes if (root / "site" / _codeset(c) / c).is_dir()}
    assert "99213" in codes_with_pages
    listed: set[tuple[str, str]] = set()
    for html in sections.values():
        for c1, c2 in re.findall(r'<tr><th scope="row">([0-9A-Z]{5})</th><td>([0-9A-Z]{5})</td>', html):
            listed.add((c1, c2))
    assert listed == {p for p in pairs if any(c in codes_with_pages for c in p)}
    deleted = next(p for p in pairs if dict(((r["column1"], r["column2"]), r) for r in new_ptp)[p]
                   ["deletion_date"] == "2024-12-31")
    html = sections[deleted[0]]
    assert f"<td>{deleted[1]}</td><td>deleted (deletion date set)</td><td>in force; modifier indicator" \
        in html
    assert "<td>deleted 2024-12-31; modifier indicator" in html
    assert "NCCI PTP edits (practitioner) effective 2024-07-01 and 2024-10-01, CMS" in html
    value = new_mue[10]["hcpcs_cpt_code"]
    if value in sections:
        assert f"{new_mue[10]['mue_value']} units" in sections[value]


def _codeset(code: str) -> str:
    return "cpt" if code[0].isdigit() else "hcpcs"


def test_the_public_change_page_names_codes_and_never_values(quarters: dict[str, object]) -> None:
    root = quarters["root"]
    assert isinstance(root, Path)
    (ptp, mue), (new_ptp, new_mue) = quarters["old"], quarters["new"]  # type: ignore[misc]
    page = (root / "site" / "ncci" / "changes" / "index.html").read_text(encoding="utf-8")
    ptp_part = page.split('id="ncci-ptp-practitioner-2024-10-01"', 1)[1].split("</section>", 1)[0]
    mue_part = page.split('id="mue-practitioner-2024-10-01"', 1)[1].split("</section>", 1)[0]
    named = set(re.findall(r'<tr><th scope="row">(?:<a href="[^"]+">)?([0-9A-Z]{5})', ptp_part))
    assert named == {c for p in _changed_pairs(ptp, new_ptp) for c in p}
    assert set(re.findall(r'<tr><th scope="row">(?:<a href="[^"]+">)?([0-9A-Z]{5})', mue_part)) == \
        _changed_mues(mue, new_mue)
    assert ("Deleted (deletion date set): 2 edits as column 1; Modifier indicator changed: 1 edit as "
            "column 1") in ptp_part
    assert "Added: 1 edit as column 1" in ptp_part
    assert "MUE value changed" in mue_part and "MUE removed" in mue_part
    # Nothing protected in site/: no deletion date, no MUE value, no section body.
    for f in (root / "site").resolve().rglob("*.html"):
        text = f.read_text(encoding="utf-8")
        assert "2024-12-31" not in text and " units, indicator" not in text, f
        assert 'class="ncci ncci-history"' not in text, f
    assert 'id="s-ncci-mue-history"' in (root / "site" / "cpt" / "99213" / "index.html").read_text()
    from test_html_validity import nu_check

    code, report = nu_check([str(root / "site" / "ncci" / "changes" / "index.html")])
    assert code == 0, report


def test_an_import_of_an_older_quarter_is_held_but_not_current(tmp_path: Path) -> None:
    from generator.config import SiteConfig
    from generator.premium import import_premium, normalised_file
    from generator.premium.releases import held_sources, release_of

    cfg = SiteConfig(root=tmp_path)
    _, mue = _july()
    _write(mue, tmp_path / "mue_2024-10-01.tsv")
    _write(mue, tmp_path / "mue_2024-04-01.tsv")
    _write(mue, tmp_path / "mue_undated.tsv")
    import_premium(cfg, "mue-practitioner", tmp_path / "mue_2024-10-01.tsv")
    result = import_premium(cfg, "mue-practitioner", tmp_path / "mue_2024-04-01.tsv")
    assert result.path == tmp_path / "data" / "premium" / "held" / "mue-practitioner" / "2024-04-01.sqlite"
    assert [release_of(s) for s in held_sources(cfg, "mue-practitioner")] == ["2024-04-01", "2024-10-01"]
    current = tmp_path / "data" / "premium" / "mue-practitioner.sqlite"
    assert normalised_file(cfg, "mue-practitioner") == current
    # Imported again, the same release replaces itself; an undated file replaces them all (as before).
    import_premium(cfg, "mue-practitioner", tmp_path / "mue_2024-04-01.tsv")
    assert len(held_sources(cfg, "mue-practitioner")) == 2
    result = import_premium(cfg, "mue-practitioner", tmp_path / "mue_undated.tsv")
    assert "held release(s) dropped" in result.note
    assert [s.release for s in held_sources(cfg, "mue-practitioner")] == [None]
    from generator.errors import BuildError

    with pytest.raises(BuildError, match="give the release's effective date"):
        import_premium(cfg, "mue-practitioner", tmp_path / "mue_undated.tsv", "October")


def test_current_release_in_site_yml_picks_another_release_held(tmp_path: Path) -> None:
    from generator.config import load_config
    from generator.errors import BuildError, Problems
    from generator.premium import import_premium, normalised_file
    from generator.premium.files import cache_dir

    root = make_project(tmp_path / "proj", pages=False, jobs=False, codesets="[cpt]")
    _, mue = _july()
    _write(mue, root / "content" / "official" / MUE)
    _write(mue, tmp_path / "mue_2024-10-01.tsv")
    site_yml = root / "content" / "site.yml"
    base_yml = site_yml.read_text()
    problems = Problems()
    import_premium(load_config(root, problems), "mue-practitioner", tmp_path / "mue_2024-10-01.tsv")
    site_yml.write_text(base_yml + "current_release:\n  mue-practitioner: 2024-07-01\n  gpci: 2024-07-01\n")
    cfg = load_config(root, problems)
    assert cfg.current_release == {"mue-practitioner": "2024-07-01"}
    assert any("'current_release' names 'gpci'" in str(w) for w in problems.warnings)
    current = normalised_file(cfg, "mue-practitioner")
    assert current is not None and current.parent == cache_dir(cfg)  # the shipped July file, converted
    site_yml.write_text(base_yml + "current_release:\n  mue-practitioner: 2024-04-01\n")
    with pytest.raises(BuildError, match="releases held are 2024-07-01, 2024-10-01"):
        normalised_file(load_config(root, Problems()), "mue-practitioner")
    site_yml.write_text(base_yml + "current_release:\n  mue-practitioner: October\n")
    problems = Problems()
    load_config(root, problems)
    assert any("'current_release' maps an NCCI or MUE kind" in str(e) for e in problems.errors)
