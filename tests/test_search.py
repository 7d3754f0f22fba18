"""Search stage: Pagefind bundles and lookup files from the model's public text, and the browser UI on
them."""
from __future__ import annotations

import functools
import json
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest
from playwright.sync_api import expect

from generator import forking, search
from generator.config import SiteConfig
from generator.errors import Problems
from generator.importers.icd10cm import Icd10CmImporter
from generator.link import CodeSetModel, link
from generator.model import CPT, HCPCS, ICD10CM, CodeRecord, Section
from generator.publish import digest
from generator.search_stage import SearchAhead, file_hashes, search_dir
from generator.state import open_state

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
CANARY = "zqxcanaryprotected"  # must never reach any search file
CANARY_DEFAULT = "zqxcanarydefaultkind"  # in a section protected by the config's default, not an override
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'"
)


def _sec(sid: str, kind: str, text: str, protected: bool | None = None) -> Section:
    return Section(sid, kind, sid.title(), f"<p>{text}</p>", text, protected)


def make_models() -> dict[str, CodeSetModel]:
    """ICD-10-CM from the small official-layout sample, plus a few hand-made CPT and HCPCS records."""
    problems = Problems()
    cm = list(Icd10CmImporter().read(DATA / "icd10cm-sample.xml"))
    for rec in cm:
        if rec.key == "S72.001A":
            rec.sections.append(_sec("tips", "handwritten", f"Coding tip {CANARY} femur", protected=True))
            rec.sections.append(_sec("excl", "excludes1", f"excluded {CANARY_DEFAULT}"))
            rec.sections.append(
                _sec("public-note", "handwritten", "Hand note about the femoral neck", protected=False)
            )
    cpt = [
        CodeRecord(CPT, "27250", "", order=1,
                   short_title="Putting a dislocated hip back in place without anesthesia",
                   sections=[_sec("tips", "handwritten", f"tip {CANARY}")]),
        CodeRecord(CPT, "27252", "", order=2,
                   short_title="Putting a dislocated hip back in place under anesthesia",
                   sections=[_sec("common-language-description", "handwritten",
                                  "The ball of the thigh bone is put back in the socket", protected=False)]),
    ]
    hcpcs = [
        CodeRecord(
            HCPCS, "E0601", "Continuous positive airway pressure (cpap) device", order=1, billable=True
        )
    ]
    models = {
        ICD10CM: link(ICD10CM, cm, problems),
        CPT: link(CPT, cpt, problems),
        HCPCS: link(HCPCS, hcpcs, problems),
    }
    assert not problems.errors
    return models


def cfg_for(tmp: Path) -> SiteConfig:
    return SiteConfig(root=tmp, codesets=[ICD10CM, CPT, HCPCS])


def publish(files: dict[str, list[tuple[str, Path]]], site: Path) -> None:
    for rel, src in sorted({f for fl in files.values() for f in fl}):
        dest = site / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="/assets/site.css">
<script type="module" src="/assets/boot.js"></script>{head}</head><body>
<form class="site-search" role="search" action="/search/" method="get">
  <label for="site-search-q" class="visually-hidden">Search codes</label>
  <input id="site-search-q" name="q" type="search" autocomplete="off" spellcheck="false" \
aria-controls="site-search-results" aria-expanded="false">
  <div id="site-search-results" class="search-results" hidden></div>
</form>
<main id="main"><h1>{title}</h1>{body}</main></body></html>"""

# What coderef.js does with the search module: import it on first focus and call init.
BOOT = """const input = document.getElementById("site-search-q");
const results = document.getElementById("site-search-results");
const load = () => import("/assets/search.js").then((m) => m.init({ input, results }));
input.addEventListener("focus", load, { once: true });
document.addEventListener("keydown", (e) => { \
if (e.key === "/" && e.target === document.body) { e.preventDefault(); input.focus(); } });
"""


def write_site(site: Path, models: dict[str, CodeSetModel], files: dict[str, list[tuple[str, Path]]]) -> None:
    """A minimal static site: the search files, one page per code, the search page (from the theme's
    template body) and the theme's search module and CSS."""
    publish(files, site)
    static = ROOT / "themes" / "default" / "static"
    (site / "assets").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(static / "search.js", site / "assets" / "search.js")
    (site / "assets" / "site.css").write_bytes(
        b"\n".join(p.read_bytes() for p in sorted((static / "css").glob("*.css")))
    )
    (site / "assets" / "boot.js").write_text(BOOT)
    for cs, m in models.items():
        for rec in m.records:
            d = site / cs / rec.key
            d.mkdir(parents=True, exist_ok=True)
            (d / "index.html").write_text(PAGE.format(title=f"{rec.key} {rec.title}", head="", body=""))
    template = (ROOT / "themes" / "default" / "templates" / "search.html").read_text()
    body = template.split("{% block content %}", 1)[1].split("{% endblock %}", 1)[0]
    body = body.split("<noscript>", 1)[0] + "</div>"
    (site / "search").mkdir()
    head = '<script type="module" src="/assets/search.js"></script>'
    (site / "search" / "index.html").write_text(PAGE.format(title="Search", head=head, body=body))
    (site / "index.html").write_text(PAGE.format(title="Home", head="", body=""))


class _Handler(SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map, ".pagefind": "application/wasm",
        ".js": "text/javascript", ".json": "application/json",
    }

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, CodeSetModel], dict[str, list[tuple[str, Path]]]]:
    tmp = tmp_path_factory.mktemp("search")
    models = make_models()
    files = search.index_codesets(cfg_for(tmp), models, tmp / "cache", set(models))
    return tmp, models, files


@pytest.fixture(scope="module")
def served(built: tuple[Path, dict[str, CodeSetModel], dict[str, list[tuple[str, Path]]]]) -> Iterator[str]:
    tmp, models, files = built
    site = tmp / "site"
    write_site(site, models, files)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(site)))
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    srv.server_close()


# ---------------------------------------------------------------------------------------------
# Build side


def test_protected_text_is_in_no_search_file(built: Any) -> None:
    _, _, files = built
    paths = {p for fl in files.values() for _, p in fl}
    assert any(p.name.startswith("t-") and p.suffix == ".bin" for p in paths)
    for p in paths:
        data = p.read_bytes()
        assert CANARY.encode() not in data, p
        assert CANARY_DEFAULT.encode() not in data, p
    # The public hand-written section of the same page is indexed (its words are tokens of a shard).
    assert any(b"femoral" in p.read_bytes() for p in paths if p.name.startswith("t-"))


def test_returned_files_are_sorted_complete_and_published_once(built: Any) -> None:
    _, models, files = built
    assert sorted(files) == sorted(models)
    for cs, fl in files.items():
        assert fl == sorted(fl)
        rels = [r for r, _ in fl]
        assert f"lookup/{cs}/w/meta.json" in rels
        assert f"lookup/{cs}/w/e-0.json" in rels
        assert any(r.startswith(f"lookup/{cs}/w/t-") for r in rels)
        assert f"lookup/{cs}/index.json" in rels
        assert "lookup/index.json" in rels
        assert all(p.is_file() for _, p in fl)
    index = json.loads(dict(files[CPT])["lookup/index.json"].read_text())
    assert [c["slug"] for c in index["codesets"]] == [ICD10CM, CPT, HCPCS]
    assert index["codesets"][0]["words"] == "/lookup/icd-10-cm/w/"


def test_lookup_bucket_holds_every_seventh_character_code(built: Any) -> None:
    _, _, files = built
    rels = dict(files[ICD10CM])
    prefixes = json.loads(rels["lookup/icd-10-cm/index.json"].read_text())["buckets"]
    own = max((p for p in prefixes if "s72001a".startswith(p)), key=len)
    codes = {row[0] for row in json.loads(rels[f"lookup/icd-10-cm/{own}.json"].read_text())["codes"]}
    assert {"S72.001A", "S72.001D", "S72.001S"} <= codes


def test_only_changed_code_sets_are_reindexed(tmp_path: Path) -> None:
    models = make_models()
    cfg = cfg_for(tmp_path)
    out = tmp_path / "cache"
    first = search.index_codesets(cfg, models, out, set(models))
    stamps = {p: p.stat().st_mtime_ns for fl in first.values() for _, p in fl}
    # Nothing changed: the same files come back, untouched.
    again = search.index_codesets(cfg, models, out, set())
    assert again == first
    assert all(p.stat().st_mtime_ns == t for p, t in stamps.items())
    # CPT changes: only CPT gets new files; the old CPT files are not rewritten in place.
    models[CPT].records[1].short_title = "Reduction of a dislocated hip with anesthesia, revised wording"
    third = search.index_codesets(cfg, models, out, {CPT})
    assert third[ICD10CM] == first[ICD10CM] and third[HCPCS] == first[HCPCS]
    new_cpt = {p for r, p in third[CPT] if r.startswith("lookup/cpt/w/")}
    old_cpt = {p for r, p in first[CPT] if r.startswith("lookup/cpt/w/")}
    assert new_cpt and not new_cpt & old_cpt
    assert any(b"wording" in p.read_bytes() or b"revis" in p.read_bytes() for p in new_cpt)


def test_a_reindex_with_the_same_outcome_keeps_its_generation_untouched(tmp_path: Path) -> None:
    # A hand-written page edited and put back, or a change the index does not show: the code set is
    # re-indexed, its files come out the same, and its generation is the one already on disk.
    models = make_models()
    cfg = cfg_for(tmp_path)
    out = tmp_path / "cache"
    first = search.index_codesets(cfg, models, out, set(models))
    stamps = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for fl in first.values() for _, p in fl}
    again = search.index_codesets(cfg, models, out, set(models))
    assert again == first
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in stamps} == stamps
    generations = {p.relative_to(out / CPT).parts[0] for _, p in first[CPT] if p.is_relative_to(out / CPT)}
    assert len(generations) == 1
    assert sorted(p.name for p in (out / CPT).iterdir()) == sorted([*generations, "state.json"])


def test_published_hashes_of_a_new_generation_are_its_files_hashes(tmp_path: Path) -> None:
    # Publishing takes a new generation's hashes from the list it keeps, not from reading the files back:
    # the list must say what the files hold, and a file that no longer matches it is read.
    models = make_models()
    cfg = cfg_for(tmp_path)
    files = search.index_codesets(cfg, models, tmp_path / "cache", set(models))
    every = [f for fl in files.values() for f in fl]
    listed = search.generation_digests(str(p) for _, p in every)
    in_generations = [p for _, p in every if p.parent.name != "shared"]
    assert in_generations and {str(p) for p in in_generations} == listed.keys()
    for p in in_generations:
        assert listed[str(p)] == (p.stat().st_size, digest(p.read_bytes()))
    changed = next(p for p in in_generations if p.name.endswith(".json"))
    changed.write_bytes(changed.read_bytes() + b" ")  # not as the list says: read, not trusted
    db = open_state(tmp_path / "state")
    try:
        hashes = {str(src): h for _, src, h in file_hashes(db, every)}
    finally:
        db.close()
    assert hashes == {str(p): digest(p.read_bytes()) for _, p in every}


def test_missing_index_is_rebuilt_even_when_not_marked_changed(tmp_path: Path) -> None:
    models = make_models()
    out = tmp_path / "cache"
    search.index_codesets(cfg_for(tmp_path), models, out, set(models))
    shutil.rmtree(out / HCPCS)
    files = search.index_codesets(cfg_for(tmp_path), models, out, set())
    assert all(p.is_file() for _, p in files[HCPCS])


def test_code_set_without_records_is_left_out_not_an_error(tmp_path: Path) -> None:
    # HCPCS enabled but nothing imported yet: the rest of the site still gets its search.
    models = make_models()
    models[HCPCS] = link(HCPCS, [], Problems())
    files = search.index_codesets(cfg_for(tmp_path), models, tmp_path / "cache", set(models))
    assert set(files) == {ICD10CM, CPT}
    index = json.loads(dict(files[CPT])["lookup/index.json"].read_bytes())
    assert [cs["slug"] for cs in index["codesets"]] == [ICD10CM, CPT]


def _published(files: dict[str, list[tuple[str, Path]]]) -> dict[str, bytes]:
    return {rel: p.read_bytes() for fl in files.values() for rel, p in fl}


def test_code_sets_indexed_in_forked_workers_equal_those_indexed_here(tmp_path: Path) -> None:
    models = make_models()
    here = search.index_codesets(cfg_for(tmp_path), models, tmp_path / "one", set(models), jobs=1)
    forked = search.index_codesets(cfg_for(tmp_path), models, tmp_path / "two", set(models), jobs=3)
    assert _published(forked) == _published(here) and len(_published(here)) > 10


def test_generations_prepared_beside_the_render_become_current_unindexed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = make_models()
    cfg, out = cfg_for(tmp_path), tmp_path / "cache"
    extra = search.Extra()
    early = {cs: search.prepare_codeset(cfg, models[cs], out, extra) for cs in (ICD10CM, CPT)}
    seen: list[str] = []
    real = search.prepare

    def counting(cfg: SiteConfig, model: CodeSetModel, cs_dir: Path, extra: search.Extra) -> search.Prepared:
        seen.append(model.codeset)
        return real(cfg, model, cs_dir, extra)

    monkeypatch.setattr(search, "prepare", counting)
    files = search.index_codesets(cfg, models, out, set(models), extra, prepared=early)
    assert seen == [HCPCS]  # only the code set not prepared earlier is indexed now
    assert all(early[ICD10CM] in p.parts for r, p in files[ICD10CM] if r.startswith("lookup/icd-10-cm/"))
    monkeypatch.setattr(search, "prepare", real)
    reference = search.index_codesets(cfg_for(tmp_path), models, tmp_path / "ref", set(models), jobs=1)
    assert _published(files) == _published(reference)
    # And they are current: a build that changes nothing finds them without indexing again.
    assert search.index_codesets(cfg, models, out, set(), extra) == files


def test_seventh_character_extensions_fold_into_their_base_code() -> None:
    models = make_models()
    model = models[ICD10CM]
    titles, folded, _ = search.records_text(SiteConfig(), model)
    keys = {model.records[i].key for i in folded}
    assert {"S72.001D", "S72.001S"} <= keys  # no text of their own: folded
    assert "S72.001A" not in keys  # a public note of its own: kept
    assert len(titles) == len(model.records)  # every record still has a lookup title
    # A fourth character that reads like a variant is a code of its own.
    a03 = CodeRecord(ICD10CM, "A03", "Shigellosis")
    assert search.extension_suffix(a03, CodeRecord(ICD10CM, "A03.9", "Shigellosis, unspecified")) is None
    s7291 = CodeRecord(ICD10CM, "S72.91", "Unspecified fracture of right femur")
    assert search.extension_suffix(s7291, CodeRecord(ICD10CM, "S72.91XS", "Unspecified fracture of "
        "right femur, sequela")) == "sequela"


def test_own_text_drops_inherited_note_blocks() -> None:
    text = "Own note one\nFrom S73 — Dislocation of hip\ninherited note"
    assert search.own_text(text) == "Own note one"
    assert search.own_text("From Chapter 19 — Injury\nnote") == ""


# ---------------------------------------------------------------------------------------------
# In the browser (real Chromium, strict CSP)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context()
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on(
        "console",
        lambda m: m.type == "error" and "Failed to load resource" not in m.text and errors.append(m.text),
    )
    pg.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    yield pg
    ctx.close()
    assert not errors, errors  # includes any CSP violation


def until(get: Callable[[], T], ok: Callable[[T], bool], timeout: float = 10.0) -> T:
    """Polls from Python: the page's CSP forbids the string evaluation Playwright's wait_for_function uses."""
    end = time.monotonic() + timeout
    while True:
        value = get()
        if ok(value):
            return value
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting; last value: {value!r}")
        time.sleep(0.05)


def _options(pg: Any) -> list[str]:
    return [
        t.strip() for t in pg.locator("#site-search-results [role=option] .search-code").all_inner_texts()
    ]


def _type(pg: Any, text: str) -> None:
    pg.fill("#site-search-q", text)


@pytest.mark.browser
def test_cpt_code_is_first(served: str, page: Any) -> None:
    page.goto(served + "/hcpcs/E0601/")
    page.keyboard.press("/")
    page.keyboard.type("27252")
    expect(page.locator("#site-search-results [role=option] .search-code").first).to_have_text("27252")
    assert _options(page)[0] == "27252"
    assert page.get_attribute("#site-search-q", "aria-expanded") == "true"


@pytest.mark.browser
@pytest.mark.parametrize("typed", ["s72001a", "S72.001A"])
def test_exact_icd_code_first_and_enter_opens_it(served: str, page: Any, typed: str) -> None:
    page.goto(served + "/")
    page.focus("#site-search-q")
    _type(page, typed)
    expect(page.locator("#site-search-results .search-code").first).to_have_text("S72.001A")
    opts = _options(page)
    assert opts[0] == "S72.001A" and "S72.001B" not in opts[:1]
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == served + "/icd-10-cm/S72.001A/"


@pytest.mark.browser
def test_enter_right_after_typing_still_opens_the_code(served: str, page: Any) -> None:
    page.goto(served + "/")
    page.focus("#site-search-q")
    page.keyboard.type("e0601")
    page.keyboard.press("Enter")
    expect(page).to_have_url(served + "/hcpcs/E0601/")


@pytest.mark.browser
def test_arrow_keys_choose_an_option(served: str, page: Any) -> None:
    page.goto(served + "/")
    page.focus("#site-search-q")
    _type(page, "S72.00")
    expect(page.locator("#site-search-results [role=option]").nth(2)).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    active = page.get_attribute("#site-search-q", "aria-activedescendant")
    assert active and page.get_attribute(f"#{active}", "aria-selected") == "true"
    href = page.get_attribute(f"#{active}", "href")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == served + href
    assert href != "/icd-10-cm/S72.00/"  # the second option, not the exact code


@pytest.mark.browser
def test_words_find_hip_dislocation_codes(served: str, page: Any) -> None:
    page.goto(served + "/")
    page.focus("#site-search-q")
    _type(page, "hip dislocation")
    opts = until(lambda: _options(page), lambda o: any(x.startswith("S73.0") for x in o))
    assert any(o.startswith("S73.0") for o in opts[:5]), opts


@pytest.mark.browser
def test_search_page_filters_by_code_set_and_keeps_query_in_url(served: str, page: Any) -> None:
    page.goto(served + "/search/?q=hip")
    page.wait_for_selector("#search-page-results li")
    sets = set(page.locator("#search-page-results .search-set").all_inner_texts())
    assert {"ICD-10-CM", "CPT"} <= sets
    chip = page.locator("#search-page-chips [data-codeset=cpt]")
    assert int(chip.locator(".chip-count").inner_text()) >= 1
    chip.click()
    expect(page).to_have_url(re.compile(r"[?&]codeset=cpt"))
    until(
        lambda: page.locator("#search-page-results .search-set").all_inner_texts(),
        lambda t: set(t) == {"CPT"},
    )
    assert page.locator("#search-page-results li").count() >= 1
    assert page.get_attribute("#search-page-chips [data-codeset=cpt]", "aria-pressed") == "true"
    # The URL alone restores the filtered search.
    page.goto(served + "/search/?q=hip&codeset=cpt")
    page.wait_for_selector("#search-page-results li")
    assert set(page.locator("#search-page-results .search-set").all_inner_texts()) == {"CPT"}
    assert page.input_value("#search-page-q") == "hip"


@pytest.mark.browser
def test_code_pages_load_no_search_files_until_focus(served: str, page: Any) -> None:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(served + "/icd-10-cm/S72.001A/")
    page.wait_for_load_state("networkidle")
    assert not any("/lookup/" in u or "search.js" in u for u in requested)
    with page.expect_request(lambda r: r.url.endswith("/lookup/index.json")):
        page.focus("#site-search-q")
    assert any("search.js" in u for u in requested)


@pytest.mark.browser
def test_canary_is_not_found(served: str, page: Any) -> None:
    page.goto(served + f"/search/?q={CANARY}")
    expect(page.locator("#search-page-status")).to_contain_text("No codes")
    assert page.locator("#search-page-results li").count() == 0


def _results(pg: Any) -> list[tuple[str, str]]:
    codes = pg.locator("#search-page-results .search-code").all_inner_texts()
    sets = pg.locator("#search-page-results .search-set").all_inner_texts()
    return list(zip(codes, sets, strict=False))


@pytest.mark.browser
def test_category_ranks_above_its_codes_and_extensions_are_folded(served: str, page: Any) -> None:
    page.goto(served + "/search/?q=fracture+of+femur")
    expect(page.locator("#search-page-status")).to_contain_text("matching code")
    codes = [c for c, _ in _results(page)]
    # The category whose title is the query first, then its subcategories, before the billable codes.
    assert codes[:3] == ["S72", "S72.0", "S72.00"], codes
    # A 7th-character extension without text of its own is not a result of its own: its base code is.
    assert "S72.001" in codes and "S72.001B" not in codes and "S72.001D" not in codes
    # Every word must be in the code: "femur" alone (S73 hip codes mention no femur) is not enough.
    assert not any(c.startswith("S73") for c in codes)


@pytest.mark.browser
def test_chip_counts_count_the_codes_listed(served: str, page: Any) -> None:
    page.goto(served + "/search/?q=hip+dislocation")
    expect(page.locator("#search-page-status")).to_contain_text("matching code")
    listed = _results(page)
    # "Subluxation and dislocation of hip" says it more closely than S73's "Dislocation and sprain of joint
    # and ligaments of hip".
    assert listed[0][0] == "S73.0" and "S73" in [c for c, _ in listed]
    chips = {b.get_attribute("data-codeset"): b.locator(".chip-count").inner_text()
             for b in page.locator("#search-page-chips .chip").all()}
    # The sample is small: every matching page is loaded, so the counts are exact (no "+").
    assert chips[""] == str(len(listed))
    assert chips[ICD10CM] == str(sum(1 for _, s in listed if s == "ICD-10-CM"))
    assert chips[CPT] == str(sum(1 for _, s in listed if s == "CPT")) == "2", (chips, listed)
    assert chips[HCPCS] == "0"


@pytest.mark.browser
@pytest.mark.parametrize("q", ["zzzzqqq", "S72zzzz", "diabetes zzzzqqq"])
def test_nonsense_finds_nothing(served: str, page: Any, q: str) -> None:
    page.goto(served + f"/search/?q={q}")
    expect(page.locator("#search-page-status")).to_contain_text("No codes match")
    assert page.locator("#search-page-results li").count() == 0
    assert page.locator("#search-page-chips [data-codeset=''] .chip-count").inner_text() == "0"


def _ahead(tmp_path: Path) -> tuple[SearchAhead, dict[str, CodeSetModel], SiteConfig]:
    models = make_models()
    cfg = cfg_for(tmp_path)
    return SearchAhead(cfg, models, open_state(cfg.state_dir), clean=True), models, cfg


def test_index_started_ahead_in_a_child_equals_the_index_made_here(tmp_path: Path) -> None:
    ahead, models, cfg = _ahead(tmp_path)
    ahead.start(jobs=2)
    assert ahead.sides() == []  # the child indexes: no render task does
    ahead.finish()
    assert sorted(ahead.prepared) == sorted(models)
    files = search.index_codesets(
        cfg, models, search_dir(cfg), set(models), ahead.extra, prepared=ahead.prepared
    )
    reference = search.index_codesets(cfg, models, tmp_path / "ref", set(models), jobs=1)
    assert _published(files) == _published(reference) and len(_published(files)) > 10
    assert not list(search_dir(cfg).glob("ahead-*"))  # the child's answer file is gone


def test_one_process_build_indexes_beside_the_render(tmp_path: Path) -> None:
    ahead = _ahead(tmp_path)[0]
    ahead.start(jobs=1)
    assert len(ahead.sides()) == 1


def test_a_failed_child_is_redone_here_and_a_stopped_one_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ahead, models, cfg = _ahead(tmp_path)

    def fails(self: forking.Ahead[Any]) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(forking.Ahead, "_write", fails)
    ahead.start(jobs=2)
    ahead.finish()  # the child failed: indexed here
    reference = search.index_codesets(cfg, models, tmp_path / "ref", set(models), jobs=1)
    files = search.index_codesets(
        cfg, models, search_dir(cfg), set(models), ahead.extra, prepared=ahead.prepared
    )
    assert sorted(ahead.prepared) == sorted(models) and _published(files) == _published(reference)

    slow, _, cfg2 = _ahead(tmp_path / "two")
    monkeypatch.setattr(forking.Ahead, "_write", lambda self: time.sleep(60))
    slow.start(jobs=2)
    t0 = time.perf_counter()
    slow.stop()
    assert time.perf_counter() - t0 < 10 and slow.prepared == {}
    slow.finish()  # nothing left to wait for
    assert slow.prepared == {} and not list(search_dir(cfg2).glob("ahead-*"))
