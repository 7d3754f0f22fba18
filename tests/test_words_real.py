"""Finding codes from words, on the full default code sets with the FY2025 ICD-10-CM index files and the
2024 ICD-10-PCS tables, definitions and index the project ships (content/official): everyday coder queries in
real headless Chromium against `coderef serve`, the same queries through the Python reader, and the
index pages' weight."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from browser_helpers import browser, new_page, serve  # noqa: F401 (fixtures)
from conftest import ROOT, fast_tmpdir
from playwright.sync_api import expect

from generator.words.reader import WordSearch
from generator.words.text import tokens

pytestmark = [pytest.mark.slow, pytest.mark.shareddata]

# Everyday queries -> codes one of which must be among the first three results (a listed code also
# accepts its descendants: "S42" is any fracture of the shoulder and upper arm).
QUERIES: dict[str, tuple[str, ...]] = {
    "broken arm": ("S42", "S52"),
    "ear infection": ("H66.9",),
    "acetaminophen overdose": ("T39.1X1",),
    "malignant neoplasm of lung": ("C34.9",),
    "laparoscopic appendectomy": ("0DTJ4ZZ",),
    "uti": ("N39.0",),
    "urinary tract infection": ("N39.0",),
    "ckd": ("N18",),
    "dvt": ("I82.4",),
    "gerd": ("K21",),
    "cabg": ("021",),
    "tka": ("0SRC", "0SRD", "0SR"),
    "copd": ("J44",),
    "chf": ("I50",),
    "heart attack": ("I21",),
    "hypertension": ("I10",),
    "htn": ("I10",),
    "high blood pressure": ("I10",),
    "type 2 diabetes": ("E11.9",),
    "diabetes with ckd": ("E11.22",),
    "asthma": ("J45",),
    "pneumonia": ("J18.9",),
    "migraine": ("G43",),
    "hip fracture": ("S72.0",),
    "left hip fracture": ("S72.002", "S72.012", "S72.0"),
    "fracture of femur": ("S72",),
    "sprained ankle": ("S93.4",),
    "low back pain": ("M54.5",),
    "headache": ("R51",),
    "chest pain": ("R07",),
    "abdominal pain": ("R10",),
    "sepsis": ("A41.9",),
    "atrial fibrillation": ("I48",),
    "afib": ("I48",),
    "obesity": ("E66",),
    "anemia": ("D64.9",),
    "depression": ("F32",),
    "anxiety": ("F41",),
    "dehydration": ("E86.0",),
    "fever": ("R50",),
    "cough": ("R05",),
    "constipation": ("K59.0",),
    "hypothyroidism": ("E03.9",),
    "rheumatoid arthritis": ("M06",),
    "kidney stone": ("N20",),
    "appendicitis": ("K37", "K35"),
    "influenza": ("J10", "J11"),
    "strep throat": ("J02.0",),
    "pink eye": ("H10",),
    "bee sting": ("T63.44",),
    "dog bite": ("W54.0",),
    "colonoscopy": ("0DJD8ZZ",),
    "laparoscopic cholecystectomy": ("0FT44ZZ",),
    "total hip replacement": ("0SR9", "0SRB", "0SR"),
    "breast cancer": ("C50",),
    "lung cancer": ("C34",),
    "prostate cancer": ("C61",),
    "aspirin overdose": ("T39.01",),
    "hip dislocation": ("S73.0",),
    "concussion": ("S06.0",),
    "stroke": ("I63",),
    "nosebleed": ("R04.0",),
    "shortness of breath": ("R06.0",),
    "esrd": ("N18.6",),
    "otitis media": ("H66.9",),
    "carpal tunnel syndrome": ("G56.0",),
    "gout": ("M10",),
    "shingles": ("B02",),
    "pressure ulcer": ("L89",),
    "hyperlipidemia": ("E78.5",),
    "vitamin d deficiency": ("E55",),
    "alcohol abuse": ("F10.1",),
    "opioid dependence": ("F11.2",),
    # From the acceptance review: the encounter (Z23) or Medicare's administration code (G0008), not the
    # quality-measure G-codes; the procedure or the status code, not complications "following" the surgery.
    "flu shot": ("Z23", "G0008"),
    "flu vaccine": ("Z23", "G0008", "Q2039"),
    "cataract surgery": ("Z98.4", "08DJ3ZZ", "08DK3ZZ", "08R", "08D"),
}


def _good(found: list[str], want: tuple[str, ...]) -> bool:
    return any(code.startswith(w) for code in found[:3] for w in want)


@pytest.fixture(scope="session")
def real_site() -> Iterator[Path]:
    """The default project (full ICD-10-CM and ICD-10-PCS, the books it ships in content/official), built
    once without the shipped HCPCS and CMS premium files (no test here reads them; they would double the
    build). Built on tmpfs when the machine has one: 190k pages."""
    from generator.official import SHIPPED
    from generator.premium import PREMIUM_KINDS

    base = fast_tmpdir("coderef-real-")
    try:
        root = base / "proj"
        root.mkdir()
        # As before the public record shipped: the code sets and books, no HCPCS file, no CMS data.
        official = ROOT / "content" / "official"
        left_out = {official / SHIPPED[k].path for k in (*PREMIUM_KINDS, "hcpcs") if k in SHIPPED}

        def no_premium(folder: str, names: list[str]) -> list[str]:
            return [n for n in names if Path(folder) / n in left_out]

        shutil.copytree(ROOT / "content", root / "content", ignore=no_premium)
        shutil.copytree(ROOT / "themes", root / "themes")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        built = subprocess.run(
            [sys.executable, "-m", "generator", "--root", str(root), "build", "--quiet"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert built.returncode == 0, built.stdout + built.stderr
        yield root
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def real_served(real_site: Path) -> Iterator[str]:
    yield from serve(real_site)


def test_python_reader_finds_the_codes(real_site: Path) -> None:
    ws = WordSearch(real_site / "site")
    misses = {}
    for q, want in QUERIES.items():
        found = [h.key for h in ws.search(q, limit=5)]
        if not _good(found, want):
            misses[q] = found
    assert misses == {}


def test_uti_finds_infection_not_utility(real_site: Path) -> None:
    ws = WordSearch(real_site / "site")
    hits = ws.search("uti", limit=50)
    assert hits and hits[0].key == "N39.0"
    assert not any("utilit" in h.title.lower() for h in hits)
    # Whole words and word prefixes match, never the inside of a word.
    assert all(
        "infect" in h.via.lower() + h.title.lower() or "urinary" in h.via.lower() + h.title.lower()
        for h in hits[:10]
    )


def _top(page: Any, q: str) -> list[str]:
    page.goto(f"/search/?q={quote(q)}")
    expect(page.locator("#search-page-status")).to_contain_text(
        re.compile("matching code|No codes"), timeout=30_000
    )
    codes = page.locator("#search-page-results .search-code").all_inner_texts()
    sets = page.locator("#search-page-results .search-set").all_inner_texts()
    return [c.strip() for c, s in zip(codes, sets, strict=True) if s != "Jobs"]  # the job board's hits apart


@pytest.mark.browser
def test_everyday_queries_in_the_browser(browser: Any, real_served: str, real_site: Path) -> None:  # noqa: F811
    page = new_page(browser, real_served)
    ws = WordSearch(real_site / "site")
    misses = {}
    differ = {}
    for q, want in QUERIES.items():
        found = _top(page, q)
        if not _good(found, want):
            misses[q] = found[:5]
        # The browser ranks exactly like the Python reader (same files, same rules).
        py = [h.key for h in ws.search(q, limit=10)]
        if found[:10] != py[: len(found[:10])]:
            differ[q] = (found[:10], py)
    assert misses == {}
    assert differ == {}
    assert page.js_errors == []
    page.context.close()


@pytest.mark.browser
def test_results_show_code_set_status_and_the_index_line(browser: Any, real_served: str) -> None:  # noqa: F811
    page = new_page(browser, real_served)
    _top(page, "ear infection")
    first = page.locator("#search-page-results li").first
    assert first.locator(".search-code").inner_text() == "H66.9"
    assert first.locator(".search-set").inner_text() == "ICD-10-CM"
    assert first.locator(".search-status").inner_text() == "Header"
    assert "see also Otitis media" in first.locator(".search-excerpt").inner_text()
    # A no-match page offers no dead "More results" button.
    _top(page, "zzqqxx nothing")
    assert page.locator("#search-page-results li").count() == 0
    assert page.locator("#search-page-more").is_hidden()
    page.context.close()


@pytest.mark.browser
def test_text_rules_are_the_same_in_the_browser(browser: Any, real_served: str) -> None:  # noqa: F811
    page = new_page(browser, real_served, bypass_csp=True)
    page.goto("/search/")
    src = page.locator("script[type=module][src*='search.']").first.get_attribute("src")
    samples = [
        "Fractures of the femur",
        "Dislocated hips",
        "Infected, infective, infection",
        "Crohn's disease",
        "Injuries",
        "Abscesses of kidneys",
        "Arthritis",
        "Type 2 diabetes mellitus",
        "Sjögren syndrome",
        "Hearing loss",
        "Acetaminophen overdose",
        "uti",
        "CABG x3",
        "heart-attack",
        "bleeding ulcers",
        "Café-au-lait spots",
    ]
    got = page.evaluate(
        "async ([src, xs]) => { const m = await import(src); return xs.map((x) => m.tokens(x)); }",
        [src, samples],
    )
    assert got == [tokens(x) for x in samples]
    page.context.close()


def test_main_term_pages_stay_under_30_kb(real_site: Path) -> None:
    site = real_site / "site"
    sizes = {}
    for top in ("icd-10-cm/index", "icd-10-cm/external-cause-index", "icd-10-pcs/index"):
        for p in (site / top).rglob("index.html"):
            rel = p.relative_to(site / top).as_posix()
            if rel == "index.html" or rel.startswith("letter-"):
                continue
            sizes[f"{top}/{rel}"] = p.stat().st_size
    assert len(sizes) > 8000
    big = {k: v for k, v in sizes.items() if v > 30 * 1024}
    assert big == {}
    # Very large main terms are split into pages of their subterms.
    assert (site / "icd-10-cm/index/fracture-traumatic/index.html").is_file()
    assert len(list((site / "icd-10-cm/index/fracture-traumatic").rglob("index.html"))) > 3


def test_code_pages_list_their_index_entries(real_site: Path) -> None:
    page = html.unescape((real_site / "site" / "icd-10-cm" / "I21.9" / "index.html").read_text())
    block = page.split('id="s-index-entries"', 1)[1]
    assert "Index entries for this code" in page
    assert "Attack, attacks \u203a heart" in block and "see infarct, myocardium" in block.lower()
    pcs = html.unescape((real_site / "site" / "icd-10-pcs" / "0DTJ4ZZ" / "index.html").read_text())
    assert "J \u2014 Appendix" in pcs and "4 \u2014 Percutaneous Endoscopic" in pcs
    assert "Cutting out or off, without replacement, all of a body part" in pcs
    table = (real_site / "site" / "icd-10-pcs" / "0DT" / "index.html").read_text()
    assert 'id="row-J"' in table and "Appendix" in table


def test_a_partial_pcs_code_ranks_the_codes_that_say_what_the_index_line_says(real_site: Path) -> None:
    """The PCS index names four characters ("Pacemaker › Dual Chamber › Chest: 0JH6"); of the table's codes
    below them, those whose titles carry the index line's words come first, not the monitoring devices
    that happen to come first in the table; an index word no sibling has ("appendectomy") costs nothing."""
    ws = WordSearch(real_site / "site")
    top = ws.search("pacemaker", limit=5)
    assert all("pacemaker" in h.title.lower() for h in top[:3]), [(h.key, h.title) for h in top]
    exact = ws.search("pacemaker dual chamber chest", limit=3)
    assert exact[0].key == "0JH606Z", [(h.key, h.title) for h in exact]
    assert "0DTJ4ZZ" in [h.key for h in ws.search("laparoscopic appendectomy", limit=3)]
