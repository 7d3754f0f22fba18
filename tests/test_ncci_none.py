"""The public "no NCCI edits" note (premium.lists.NO_EDITS): on each CPT and HCPCS code page that the
site's NCCI PTP files hold no edit of, in the open (never walled, never in the store); not on modifier
or ICD-10 pages, nor on any page of a site without PTP files; and gone or added, as a full build would,
when a replaced PTP file gives a code its first edit or takes its last away."""
from __future__ import annotations

from pathlib import Path

import pytest
from cms_fixtures import CMS
from test_premium_files import SHIPPED_FIXTURES, ship
from test_premium_update import copy_project, pages, rows

from generator.build import build
from generator.config import SiteConfig
from generator.premium import import_premium

NOTE = "No NCCI procedure-to-procedure (PTP) edit names this code"
PTP = CMS / SHIPPED_FIXTURES["ncci-ptp-practitioner"]


def ptp_codes(text: str) -> set[str]:
    """Every code of a PTP file in CMS's layout (column 1 and column 2 of each edit row), read here
    independently of the importer."""
    codes = set()
    for line in text.splitlines():
        cells = line.split("\t")
        if len(cells) >= 6 and cells[0][:1].isalnum() and cells[0] != "Column 1":
            codes.update(c.strip() for c in cells[:2])
    return codes


def code_pages(root: Path, codeset: str) -> dict[str, str]:
    """key -> HTML of each code page of `codeset` in the built site."""
    site = (root / "site").resolve() / codeset
    out = {}
    for d in sorted(site.iterdir()):
        f = d / "index.html"
        if f.is_file():
            html = f.read_text(encoding="utf-8")
            if '<body class="code-page' in html:
                out[d.name] = html
    return out


def built_with(root: Path, kinds: dict[str, str]) -> Path:
    from conftest import make_project

    make_project(root, pages=True)
    ship(root, kinds)
    build(root, quiet=True, jobs=1, search=False)
    return root


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample project (hand-written pages too) with the shipped CMS fixtures but the HCPCS code file.
    Read-only!"""
    kinds = {k: v for k, v in SHIPPED_FIXTURES.items() if k != "hcpcs"}
    return built_with(tmp_path_factory.mktemp("ncci-none") / "proj", kinds)


def test_code_pages_without_edits_say_so_in_the_open(site: Path) -> None:
    with_edits = ptp_codes(PTP.read_text())
    stored = rows(site)
    said, walled = [], []
    for cs in ("cpt", "hcpcs"):
        for key, html in code_pages(site, cs).items():
            ids = [sid for sid, _, _ in stored.get((cs, key), [])]
            if len(key) != 5:  # a modifier page (GA, LT): not a code the edits could name
                assert NOTE not in html and 'id="s-ncci-edits"' not in html, (cs, key)
            elif key in with_edits:
                assert 'data-section="ncci-edits"' in html and NOTE not in html, (cs, key)
                assert "ncci-edits" in ids, (cs, key)
                walled.append(key)
            else:
                # One public block, listed in the contents, not a wall, not in the store.
                assert html.count('id="s-ncci-edits"') == 1 and NOTE in html, (cs, key)
                assert 'data-section="ncci-edits"' not in html
                assert '<a href="#s-ncci-edits">NCCI edits</a>' in html
                assert "ncci-edits" not in ids, (cs, key)
                said.append(f"{cs}/{key}")
    # Both kinds were met: hand-written pages (27252), CPT code-number pages, HCPCS codes.
    assert {"cpt/27252", "cpt/11045", "hcpcs/E0601"} <= set(said) and len(walled) >= 5
    for cs in ("icd-10-cm", "icd-10-pcs"):
        assert all(NOTE not in html for html in code_pages(site, cs).values())


def test_a_site_without_ptp_files_has_no_note(tmp_path: Path) -> None:
    kinds = {k: v for k, v in SHIPPED_FIXTURES.items() if k not in ("hcpcs", "ncci-ptp-practitioner")}
    root = built_with(tmp_path / "proj", kinds)
    for cs in ("cpt", "hcpcs"):
        found = code_pages(root, cs)
        assert found and all(NOTE not in html for html in found.values())


@pytest.mark.parametrize("change", ["gains", "loses"])
def test_a_replaced_ptp_file_moves_the_note_as_a_full_build_would(
    change: str, site: Path, tmp_path: Path
) -> None:
    """11045 gains its first edit (the note gives way to the walled section); or 36415 (which keeps
    its page: it has an MUE) loses its three (the wall gives way to the note). A PTP file feeds the
    NCCI release history, so the build after the import is a full one (into the standby slot): it
    rewrites that page and that store row and no other row, as a clean build of the same inputs
    writes them."""
    root = copy_project(site, tmp_path / "proj")
    text = PTP.read_text()
    if change == "gains":
        key = "11045"
        text += "11042\t11045\t\t20240101\t*\t1\tMisuse of column two code with column one code\n"
    else:
        key = "36415"
        text = "".join(line for line in text.splitlines(keepends=True) if "36415" not in line)
    assert (key in ptp_codes(text)) == (change == "gains")
    before_rows, before_pages = rows(root), pages(root)
    newer = tmp_path / PTP.name
    newer.write_text(text)
    import_premium(SiteConfig(root=root), "ncci-ptp-practitioner", newer)
    result = build(root, quiet=True, jobs=1, search=False)
    assert result.mode == "full"
    after_rows, after_pages = rows(root), pages(root)
    page = after_pages[f"cpt/{key}/index.html"].decode()
    assert (NOTE in page) == (change == "loses")
    assert ('data-section="ncci-edits"' in page) == (change == "gains")
    # Its store row gains or loses the reference; its partners keep theirs (the gate renders the
    # section from the new file).
    assert {k for k in after_rows if after_rows[k] != before_rows[k]} == {("cpt", key)}
    assert after_pages[f"cpt/{key}/index.html"] != before_pages[f"cpt/{key}/index.html"]
    twin = copy_project(root, tmp_path / "twin")
    assert build(twin, quiet=True, jobs=1, search=False, clean=True).mode == "clean"
    assert rows(twin) == after_rows and pages(twin) == after_pages
