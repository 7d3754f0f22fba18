"""The default build reads the files shipped in content/official/ with no import; `coderef import` and
`sources:` replace them and the release lines follow (generator/premium/files.py, generator/official.py)."""
from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from cms_fixtures import CMS

from generator.build import build
from generator.config import SiteConfig
from generator.errors import BuildError
from generator.official import SHIPPED
from generator.premium import import_premium, normalised_file, premium_inputs
from generator.premium.files import cache_dir

# kind -> small official-layout fixture, put where the project ships the real file (content/official/).
SHIPPED_FIXTURES = {
    "hcpcs": "hcpcs_level2_reexport.tsv",  # codes only, like the July 2024 re-export
    "hcpcs-modifiers": "HCPC2024_JUL_ANWEB_sample.txt",  # the file with the modifiers
    "ncci-ptp-practitioner": "ccipra-v302r0-f1.txt",
    "mue-practitioner": "MCR_MUE_PractitionerServices_Eff_07-01-2024.csv",
    "pprrvu": "PPRRVU24_JUL.csv",
    "gpci": "GPCI2024.csv",
}


def ship(root: Path, kinds: dict[str, str]) -> None:
    """Puts each fixture at its kind's shipped path below content/official/ (gzip'd where the path says)."""
    for kind, name in kinds.items():
        dest = root / "content" / "official" / SHIPPED[kind].path
        dest.parent.mkdir(parents=True, exist_ok=True)
        data = (CMS / name).read_bytes()
        dest.write_bytes(gzip.compress(data, mtime=0) if dest.suffix == ".gz" else data)


def store_section(root: Path, codeset: str, key: str, section: str) -> str:
    """A page's protected section HTML from the built store."""
    from generator.store_reader import StoreReader

    reader = StoreReader(root / "var" / "protected.sqlite")
    try:
        sections = reader.sections(codeset, key)
    finally:
        reader.close()
    found = [s.html for s in sections if s.id == section]
    assert found, f"{codeset}/{key} has no {section} section; it has {[s.id for s in sections]}"
    return found[0]


@pytest.fixture(scope="module")
def shipped_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import make_project

    root = make_project(tmp_path_factory.mktemp("shipped") / "proj", pages=False)
    ship(root, SHIPPED_FIXTURES)
    # Two jobs, and render workers even for this small site: the conversions run in forked children,
    # and the premium sections are built by the render workers (each opening the files for itself).
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("generator.render_job.PARALLEL_FROM", 0)
        build(root, quiet=True, jobs=2, search=False)
    return root


def test_hcpcs_pages_come_from_the_shipped_file_with_its_modifiers(shipped_site: Path) -> None:
    html = (shipped_site / "site" / "hcpcs" / "A4253" / "index.html").read_text(encoding="utf-8")
    assert "Blood glucose test or reagent strips for home blood glucose monitor, per 50 strips" in html
    assert "HCPCS Level II 2024-07 release, CMS" in html  # the release line of the shipped file's name
    modifier = (shipped_site / "site" / "hcpcs" / "LT" / "index.html").read_text(encoding="utf-8")
    assert "Left side (used to identify procedures performed on the left side of the body)" in modifier
    assert "HCPCS Level II 2020" in modifier  # the modifiers' own file, not the codes' release
    # Only the codes of the hcpcs file have record pages. The modifiers' file is also the earlier HCPCS
    # release held (kind hcpcs-earlier): its codes missing from the hcpcs file get deleted-code pages.
    gone = (shipped_site / "site" / "hcpcs" / "E0601" / "index.html").read_text(encoding="utf-8")
    assert '<meta name="robots" content="noindex">' in gone and "Deleted in 2024-07" in gone


def test_premium_sections_come_from_the_shipped_files(shipped_site: Path) -> None:
    assert (shipped_site / "site" / "cpt" / "45378" / "index.html").exists()  # a CPT code-number page
    ncci = store_section(shipped_site, "cpt", "99213", "ncci-edits")
    assert "36415" in ncci and "NCCI PTP edits (practitioner) effective 2024-07-01, CMS" in ncci
    mue = store_section(shipped_site, "cpt", "99213", "mue")
    assert "effective 2024-07-01" in mue
    rvu = store_section(shipped_site, "cpt", "99213", "rvu-payment")
    assert 'class="gpci-payment"' in rvu  # the locality payment table
    cfg = SiteConfig(root=shipped_site)
    converted = sorted(p.name.rsplit("-", 1)[0] for p in cache_dir(cfg).glob("*.sqlite"))
    assert converted == sorted(k for k in SHIPPED_FIXTURES if k != "hcpcs")
    assert not (shipped_site / "data" / "premium").exists()  # nothing was imported


def test_the_render_workers_store_the_sections_premium_sections_gives(shipped_site: Path) -> None:
    """The full build's page-by-page sections (built in the render workers) are those of the one-pass
    `premium_sections` over every code page, links included."""
    from generator.premium import premium_sections
    from generator.store_reader import StoreReader

    cfg = SiteConfig(root=shipped_site)
    db = sqlite3.connect(shipped_site / "var" / "protected.sqlite")
    pages: dict[str, set[str]] = {}
    for cs, key in db.execute("SELECT codeset, key FROM codes"):
        pages.setdefault(cs, set()).add(key)
    db.close()
    want = [(cs, k, s.id, s.html) for cs, k, s in premium_sections(cfg, pages)]
    reader = StoreReader(shipped_site / "var" / "protected.sqlite")
    try:
        got = []
        for cs, k, sid, _ in want:
            got += [(cs, k, s.id, s.html) for s in reader.sections(cs, k) if s.id == sid]
    finally:
        reader.close()
    assert len(want) >= 10 and got == want
    assert any('<a href="/cpt/36415/">' in html for _, _, sid, html in want if sid == "ncci-edits")


def test_an_import_replaces_the_shipped_file_and_the_release_line_follows(
    shipped_site: Path, tmp_path: Path
) -> None:
    root = tmp_path / "proj"
    shutil.copytree(shipped_site, root, symlinks=True)
    (root / "site").unlink()
    (root / "site").symlink_to(Path(str((shipped_site / "site").readlink()).replace(
        str(shipped_site), str(root))))
    cfg = SiteConfig(root=root)
    before = premium_inputs(cfg)
    newer = tmp_path / "MCR_MUE_PractitionerServices_Eff_10-01-2024.csv"
    shutil.copyfile(CMS / SHIPPED_FIXTURES["mue-practitioner"], newer)
    import_premium(cfg, "mue-practitioner", newer)
    assert premium_inputs(cfg) != before  # the build sees the change
    assert normalised_file(cfg, "mue-practitioner") == root / "data" / "premium" / "mue-practitioner.sqlite"
    result = build(root, quiet=True, jobs=1, search=False)
    assert result.mode == "full"
    assert "effective 2024-10-01" in store_section(root, "cpt", "99213", "mue")
    assert "effective 2024-07-01, CMS" in store_section(root, "cpt", "99213", "ncci-edits")  # still shipped
    assert build(root, quiet=True, jobs=1, search=False).mode == "noop"


def test_sources_in_site_yml_replace_a_shipped_file(tmp_path: Path) -> None:
    cfg = SiteConfig(root=tmp_path)
    ship(tmp_path, {"ncci-aoc": "AOC_V2024Q3-MCR.txt"})
    shipped = normalised_file(cfg, "ncci-aoc")
    assert shipped is not None and shipped.parent == cache_dir(cfg)
    db = sqlite3.connect(shipped)
    assert dict(db.execute("SELECT key, value FROM meta"))["release"] == "2024-06-03"  # official.py's line
    db.close()
    assert normalised_file(cfg, "ncci-aoc") == shipped  # converted once
    cfg.sources["ncci-aoc"] = str(CMS / "AOC_V2024Q3-MCR.txt")
    named = normalised_file(cfg, "ncci-aoc")
    assert named is not None and named != shipped and not shipped.exists()  # one conversion per kind kept
    db = sqlite3.connect(named)
    meta = dict(db.execute("SELECT key, value FROM meta"))
    db.close()
    assert meta["source_file"] == "AOC_V2024Q3-MCR.txt" and meta["release"] != "2024-06-03"
    assert json.dumps(premium_inputs(cfg)).count("ncci-aoc=site.yml") == 1
    assert normalised_file(cfg, "mue-dme") is None  # neither shipped, named nor imported


def test_forked_children_convert_every_file_even_when_one_fails(tmp_path: Path) -> None:
    """The children take the files one at a time from a shared counter: all are converted before the
    build reads them, and a file that fails stops only itself (the build converts it again, in
    process, to report the error)."""
    from generator.premium import PREMIUM_KINDS, files

    cfg = SiteConfig(root=tmp_path)
    kinds = {k: SHIPPED_FIXTURES[k] for k in ("ncci-ptp-practitioner", "mue-practitioner", "pprrvu", "gpci")}
    ship(tmp_path, {**kinds, "ncci-aoc": "ptp_missing_columns.csv"})  # not an add-on code file
    converters = {k: PREMIUM_KINDS[k].run for k in [*kinds, "ncci-aoc"]}
    pids = files.start(cfg, converters, 2)
    assert len(pids) == 2
    files.finish(pids)
    sources = {k: files.origin(cfg, k) for k in converters}
    done = {k for k, src in sources.items()
            if src is not None and files._cached(cfg, src, converters[k]).exists()}
    assert done == set(kinds)
    assert files.start(cfg, {k: converters[k] for k in kinds}, 2) == []  # nothing left to convert
    with pytest.raises(BuildError, match=r"aoc_2024-06\.tsv\.gz: not "):
        normalised_file(cfg, "ncci-aoc")
