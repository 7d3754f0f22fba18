"""The build end to end on the sample project: pages, store, leaks, atomic swap, incremental = clean."""
from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import make_project

from generator.build import build
from generator.errors import BuildError, ContentErrors
from generator.store_reader import StoreReader

CANARY = "CANARY-7f3e9b1c-do-not-leak"
SLOW_BUILD = Path(__file__).parent / "slow_build.py"  # a build pausing after each page


def tree(root: Path) -> dict[str, str]:
    """Every file below `root` (following the site link) with its content hash."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def test_one_page_per_code_with_official_titles(small_site: Path) -> None:
    site = small_site / "site"
    page = (site / "icd-10-cm" / "S72.001A" / "index.html").read_text()
    assert (
        "Fracture of unspecified part of neck of right femur, initial encounter for closed fracture" in page
    )
    assert (site / "icd-10-cm" / "E11.9" / "index.html").exists()
    assert (site / "icd-10-pcs" / "0DTN0ZZ" / "index.html").exists()
    assert (site / "icd-10-pcs" / "0DT" / "index.html").exists()
    assert (site / "cpt" / "27252" / "index.html").exists()
    assert (site / "hcpcs" / "E0601" / "index.html").exists()
    for special in ("index.html", "404.html", "robots.txt", "sitemap.xml", "_headers", "icd-10-cm/index.html",
                    "register/index.html", "login/index.html", "search/index.html"):
        assert (site / special).exists(), special


def test_page_metadata(small_site: Path) -> None:
    html = (small_site / "site" / "icd-10-cm" / "E11.9" / "index.html").read_text()
    assert '<link rel="canonical" href="https://codes.example.org/icd-10-cm/E11.9/">' in html
    m = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    ld = json.loads(m.group(1))  # type: ignore[union-attr]
    assert ld["@type"] == "MedicalCode" and ld["codeValue"] == "E11.9" and ld["codingSystem"] == "ICD-10-CM"
    assert ld["isAccessibleForFree"] is False  # inherited Excludes1 of E11 is protected
    assert "ICD-10-CM FY2026" in html


def test_cpt_page_has_ama_notice_and_no_descriptor(small_site: Path) -> None:
    html = (small_site / "site" / "cpt" / "27252" / "index.html").read_text()
    assert "American Medical Association" in html
    assert "AMA licence" in html or "AMA license" in html
    # Protected hand-written sections appear only as placeholders.
    assert "Coding tips" in html and "report **27250**" not in html and "without it, report" not in html
    # The plain-language description is public by its front matter.
    assert "Common language description" in html and "general,\nspinal or regional anesthesia" in html


def test_protected_store_holds_sections(small_site: Path) -> None:
    reader = StoreReader(small_site / "var" / "protected.sqlite")
    ids = [s.id for s in reader.sections("cpt", "27252")]
    assert ids == ["coding-tips", "modifiers", "crosswalk"]
    tips = reader.sections("cpt", "27252")[0]
    assert "without it, report <strong>27250</strong>" in tips.html
    assert reader.code_title("icd-10-cm", "S72.001A") is not None
    assert reader.code_title("icd-10-cm", "Z99.999") is None
    s72 = {s.id for s in reader.sections("icd-10-cm", "S72.001A")}
    assert {"excludes1", "seventh-character"} <= s72


def test_sitemap_index_and_robots(small_site: Path) -> None:
    site = small_site / "site"
    index = (site / "sitemap.xml").read_text()
    children = re.findall(r"<loc>https://codes.example.org/(sitemaps/[^<]+)</loc>", index)
    assert children
    urls = []
    for child in children:
        urls += re.findall(r"<loc>([^<]+)</loc>", (site / child).read_text())
    assert "https://codes.example.org/icd-10-cm/S72.001A/" in urls
    assert "Sitemap: https://codes.example.org/sitemap.xml" in (site / "robots.txt").read_text()
    assert "immutable" in (site / "_headers").read_text()


def test_canary_in_every_protected_section_never_reaches_site(project) -> None:  # type: ignore[no-untyped-def]
    root = project()
    for md in (root / "content" / "codes").glob("*/*.md"):
        text = md.read_text()
        text = re.sub(r"(## (?:Coding tips|Modifiers|Crosswalk)\n)", rf"\1{CANARY} ", text)
        md.write_text(text)
    # Every ICD-10-CM note kind is protected by default; put the canary in the data too.
    xml = (root.parent / "icd.xml")
    src = Path(__file__).parent / "data" / "icd10cm-sample.xml"
    xml.write_text(src.read_text().replace("traumatic amputation of hip and thigh", f"{CANARY} amputation"))
    yml = (root / "content" / "site.yml").read_text().replace(str(src), str(xml))
    (root / "content" / "site.yml").write_text(yml)
    build(root, quiet=True, jobs=1)
    site = (root / "site").resolve()
    leaks = [str(p) for p in site.rglob("*") if p.is_file() and CANARY.encode() in p.read_bytes()]
    assert leaks == []
    store = sqlite3.connect(root / "var" / "protected.sqlite")
    reader = StoreReader(root / "var" / "protected.sqlite")
    found = sum(
        CANARY in section.html
        for codeset, key in store.execute("SELECT codeset, key FROM codes")
        for section in reader.sections(codeset, key)
    )
    assert found >= 7  # 2 CPT × 3 + 2 HCPCS tips… and the S72 excludes1 on every S72 code
    assert os.path.realpath(root / "site").startswith(str(root / ".coderef"))
    assert not (root / "site" / ".." / "protected.sqlite").exists()


def test_content_error_fails_and_keeps_previous_site(project) -> None:  # type: ignore[no-untyped-def]
    root = project()
    build(root, quiet=True, jobs=1)
    before = tree(root / "site")
    bad = root / "content" / "codes" / "cpt" / "27250.md"
    bad.write_text(bad.read_text().replace("## Modifiers", "## Coding tips"))
    with pytest.raises(ContentErrors) as exc:
        build(root, quiet=True, jobs=1)
    assert any(p.path == "content/codes/cpt/27250.md" and p.line > 0 for p in exc.value.problems.errors)
    assert tree(root / "site") == before
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "--root", str(root), "build"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert re.search(r"content/codes/cpt/27250\.md:\d+: error: duplicate section 'Coding tips'", proc.stderr)
    assert "build failed: 1 error" in proc.stderr


def test_killed_build_leaves_previous_site(project) -> None:  # type: ignore[no-untyped-def]
    root = project()
    build(root, quiet=True, jobs=1)
    before = tree(root / "site")
    store_before = (root / "var" / "protected.sqlite").read_bytes()
    # Change the theme so every page must be rewritten, then kill the build midway through rendering.
    css = next((root / "themes" / "default" / "static" / "css").glob("*.css"))
    css.write_text(css.read_text() + "\n/* changed */\n")
    proc = subprocess.Popen([sys.executable, str(SLOW_BUILD), str(root), "0.05"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.5)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert tree(root / "site") == before
    assert (root / "var" / "protected.sqlite").read_bytes() == store_before
    # The next build recovers and matches a clean build.
    build(root, quiet=True, jobs=1)
    after = tree(root / "site")
    assert after != before
    build(root, quiet=True, jobs=1, clean=True)
    assert tree(root / "site") == after


def test_incremental_builds_equal_clean_builds(project) -> None:  # type: ignore[no-untyped-def]
    root = project()
    first = build(root, quiet=True, jobs=1)
    assert first.mode == "clean"
    noop = build(root, quiet=True, jobs=1)
    assert noop.mode == "noop" and noop.written == 0
    page = root / "content" / "codes" / "cpt" / "27252.md"
    page.write_text(page.read_text().replace("Report the anesthesia service", "Bill the anesthesia service"))
    inc = build(root, quiet=True, jobs=1)
    assert inc.mode == "pages" and inc.pages == 1
    store_inc = StoreReader(root / "var" / "protected.sqlite").sections("cpt", "27252")
    assert "Bill the anesthesia service" in store_inc[0].html
    incremental_tree = tree(root / "site")
    # A second edit in a row (the standby slot lags one build behind) must also come out right.
    page.write_text(page.read_text().replace("Bill the anesthesia", "Claim the anesthesia"))
    public = root / "content" / "codes" / "cpt" / "27250.md"
    public.write_text(public.read_text().replace("by hand, without opening", "manually, without opening"))
    inc2 = build(root, quiet=True, jobs=1)
    assert inc2.mode == "pages" and inc2.pages == 2
    html = (root / "site" / "cpt" / "27250" / "index.html").read_text()
    assert "manually, without opening" in html
    incremental_tree = tree(root / "site")
    clean = build(root, quiet=True, jobs=1, clean=True)
    assert clean.mode == "clean"
    assert tree(root / "site") == incremental_tree
    # A title change is seen by other pages: the full path handles it, still equal to clean.
    page.write_text(page.read_text().replace("with the patient under anesthesia", "under general anesthesia"))
    full = build(root, quiet=True, jobs=1)
    assert full.mode == "full"
    full_tree = tree(root / "site")
    build(root, quiet=True, jobs=1, clean=True)
    assert tree(root / "site") == full_tree


def test_check_writes_nothing(project) -> None:  # type: ignore[no-untyped-def]
    root = project()
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "--root", str(root), "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "check passed" in proc.stdout
    assert not (root / "site").exists() and not (root / "var").exists()
    (root / "content" / "codes" / "icd-10-cm").mkdir()
    (root / "content" / "codes" / "icd-10-cm" / "E11.8.md").write_text("## Tips\nx\n")
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "--root", str(root), "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "content/codes/icd-10-cm/E11.8.md:1: error: ICD-10-CM has no code 'E11.8'" in proc.stderr


def test_emptied_site_is_rebuilt_completely(project) -> None:  # type: ignore[no-untyped-def]
    import shutil

    root = project()
    build(root, quiet=True, jobs=1)
    before = tree(root / "site")
    for child in (root / "site").iterdir():  # `rm -rf site/*` through the link
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    build(root, quiet=True, jobs=1)
    assert tree(root / "site") == before
    page = root / "content" / "codes" / "cpt" / "27250.md"
    page.write_text(page.read_text().replace("by hand, without opening", "manually, without opening"))
    build(root, quiet=True, jobs=1)  # the fast path edits the live slot
    (root / "themes" / "default" / "templates" / "404.html").write_text(
        (root / "themes" / "default" / "templates" / "404.html").read_text() + "\n"
    )
    build(root, quiet=True, jobs=1)  # a full build into the slot that was emptied
    after = tree(root / "site")
    assert len(after) == len(before)
    build(root, quiet=True, jobs=1, clean=True)
    assert tree(root / "site") == after


def test_concurrent_builds_take_turns(project) -> None:  # type: ignore[no-untyped-def]
    root = project()
    build(root, quiet=True, jobs=1)
    css = next((root / "themes" / "default" / "static" / "css").glob("*.css"))
    css.write_text(css.read_text() + "\n/* a */\n")
    cmd = [sys.executable, "-m", "generator", "--root", str(root), "build", "--jobs", "1"]
    first = subprocess.Popen([sys.executable, str(SLOW_BUILD), str(root), "0.06"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.2)
    assert first.poll() is None  # still rendering
    second = subprocess.run(cmd, capture_output=True, text=True, check=False)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert second.returncode == 0, second.stderr
    assert "another build of this project is running" in second.stderr
    final = tree(root / "site")
    build(root, quiet=True, jobs=1, clean=True)
    assert tree(root / "site") == final


# The caches of a sample build made from the code sets' and the books' files (the books' own parse
# caches too, when this process has not read the same book files before: see reference._LOADED).
CODE_CACHES = {"icd10cm", "icd10pcs", "books-icd-10-cm", "books-icd-10-pcs"}


def cache_kinds(root: Path) -> set[str]:
    """The kinds of the pickle caches of a project, each of which must have one file."""
    files = (root / ".coderef" / "cache").glob("*.pickle")
    names = [re.fullmatch(r"(.+)-[0-9a-f]{24}\.pickle", p.name) for p in files]
    kinds = [m.group(1) for m in names if m is not None]
    assert len(kinds) == len(set(kinds)) == len(names), names
    return set(kinds)


def test_cold_build_parses_sources_in_parallel_and_caches_them(tmp_path: Path) -> None:


    one = make_project(tmp_path / "one")
    two = make_project(tmp_path / "two")
    build(one, quiet=True, jobs=1)
    build(two, quiet=True, jobs=2)  # ICD-10-PCS parsed by a forked child, ICD-10-CM pickled in the background
    assert tree(two / "site") == tree(one / "site")
    assert cache_kinds(two) >= CODE_CACHES  # one file of each kind: a kind's cleanup kept the others
    assert not list((two / ".coderef" / "cache").glob("*.tmp"))
    # A second cold build of the same project reads both caches and renders the same site.
    build(two, quiet=True, jobs=2, clean=True)
    assert tree(two / "site") == tree(one / "site")


def test_error_in_a_source_parsed_by_a_child_is_reported(tmp_path: Path) -> None:


    root = make_project(tmp_path / "proj")
    bad = tmp_path / "pcs.txt"
    bad.write_text("0DT10ZZ Resection\nnot a code line\n", encoding="utf-8")
    cfg = root / "content" / "site.yml"
    cfg.write_text(re.sub(r"icd10pcs: .*", f"icd10pcs: {bad}", cfg.read_text()))
    with pytest.raises(
        BuildError, match=rf"^{re.escape(str(bad))}:2: expected an ICD-10-PCS codes-file line"
    ):
        build(root, quiet=True, jobs=2)
    assert not (root / "site").exists()


def test_a_build_goes_on_in_one_process_when_no_helper_can_be_forked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fork() failing (no memory or processes left) costs time only: the same site and store."""
    one = make_project(tmp_path / "one")
    build(one, quiet=True, jobs=1)
    two = make_project(tmp_path / "two")

    def no_fork() -> int:
        raise OSError(11, "Resource temporarily unavailable")

    from generator import forking

    monkeypatch.setattr(forking.os, "fork", no_fork)
    # Cold, two jobs: the parse child, the cache writer and the store child all fail to fork.
    # (The sample is small enough to render in-process, so only those helpers ask for fork.)
    build(two, quiet=True, jobs=2)
    assert tree(two / "site") == tree(one / "site")
    assert cache_kinds(two) >= CODE_CACHES
    reader = StoreReader(two / "var" / "protected.sqlite")
    first = StoreReader(one / "var" / "protected.sqlite")
    assert reader.sections("cpt", "27252") == first.sections("cpt", "27252")


def test_coderef_no_fork_keeps_every_helper_in_the_build_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path / "proj")
    forks: list[int] = []

    def counting_fork() -> int:
        forks.append(1)
        raise OSError(11, "no fork expected")

    from generator import forking

    monkeypatch.setattr(forking.os, "fork", counting_fork)
    monkeypatch.setenv("CODEREF_NO_FORK", "1")
    result = build(root, quiet=True, jobs=2)
    assert forks == [] and result.pages > 0
    monkeypatch.delenv("CODEREF_NO_FORK")
    monkeypatch.setattr("generator.render_job.PARALLEL_FROM", 0)
    build(root, quiet=True, jobs=2, clean=True)  # a fork that fails costs time only
    assert forks  # without it, a build with two jobs does fork its helpers (a render worker)


def test_progress_prints_lines_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    """`make run > log`: a line every few seconds with pages done and rate (before: silence)."""
    from generator.progress import Progress

    p = Progress("render", 1000, log_every=0.0)
    for _ in range(10):
        p.advance(50)
    p.finish()
    lines = capsys.readouterr().err.splitlines()
    assert any(ln.startswith("render") and "500/1,000 (50%)" in ln and "/s" in ln for ln in lines), lines
    assert lines[-1].startswith("render     500 in")
    quiet = Progress("render", 10, quiet=True, log_every=0.0)
    quiet.advance(5)
    assert capsys.readouterr().err == ""
