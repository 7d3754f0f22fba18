"""Premium sections rendered on demand: the build lists them (generator/premium/lists.py), the store
keeps references and names the CMS snapshots, the reader renders them on first unlock
(generator/premium/ondemand.py) — byte for byte what rendering them in the build stored."""
from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cms_fixtures import CMS, import_all
from fixtures.gate.sitekit import app_clients

from generator import snapshots
from generator.build import build
from generator.config import SiteConfig
from generator.model import CPT, HCPCS, ICD10CM, ICD10PCS
from generator.pickle_cache import older
from generator.premium import PageSections, import_premium
from generator.premium.lists import COVERED_KIND, SectionLists, covered_in, covered_key, premium_files
from generator.store import unpack_json
from generator.store_reader import StoreReader

PASSWORD = "a long enough passphrase"


def built_project(root: Path) -> Path:
    """The sample project with every CMS kind imported (the small fixtures), built."""
    from conftest import make_project

    make_project(root, pages=True)
    import_all(SiteConfig(root=root))
    build(root, quiet=True, jobs=1, search=False)
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`built_project`, once for the module. Read-only!"""
    return built_project(tmp_path_factory.mktemp("ondemand") / "proj")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """`built_project` for a test that changes it."""
    return built_project(tmp_path / "proj")


def store_rows(root: Path) -> dict[tuple[str, str], list[tuple[str, str, bytes]]]:
    """Each page's protected sections as stored: (id, title, blob)."""
    db = sqlite3.connect(root / "var" / "protected.sqlite")
    out: dict[tuple[str, str], list[tuple[str, str, bytes]]] = {}
    q = ("SELECT c.codeset, c.key, l.id, l.title, b.html FROM codes c LEFT JOIN lists l ON l.list = c.list"
         " LEFT JOIN blobs b ON b.id = l.blob ORDER BY c.codeset, c.key, l.position")
    for cs, key, sid, title, blob in db.execute(q):
        out.setdefault((cs, key), [])
        if sid is not None:
            out[(cs, key)].append((sid, title, bytes(blob)))
    db.close()
    return out


def code_pages(root: Path) -> dict[str, set[str]]:
    db = sqlite3.connect(root / "var" / "protected.sqlite")
    out: dict[str, set[str]] = {}
    for cs, key in db.execute("SELECT codeset, key FROM code_pages"):
        out.setdefault(cs, set()).add(key)
    db.close()
    return out


def old_answer(sections: list[tuple[str, str, str]]) -> bytes:
    """The JSON array a store of premium HTML answered (schema 4: `StoreReader.lookup_json` of then)."""
    return b"[" + b",".join(
        b'{"id":%s,"title":%s,"html":%s}' % (
            json.dumps(sid).encode("ascii"), json.dumps(title).encode("ascii"),
            json.dumps(html, ensure_ascii=False).encode("utf-8"))
        for sid, title, html in sections
    ) + b"]"


def test_answers_are_byte_identical_to_the_sections_rendered_in_the_build(built: Path) -> None:
    cfg = SiteConfig(root=built)
    stored = store_rows(built)
    pages = code_pages(built)
    assert pages[CPT] >= {"99213", "36415"}
    reader = StoreReader(cfg.store_path)
    kinds: dict[str, int] = {}
    with PageSections(cfg, pages) as render:
        for (cs, key), members in stored.items():
            premium = {s.id: s.html for s in render(cs, key)}
            want = []
            for sid, title, blob in members:
                if blob[:1] == b"P":  # a reference: the section the build used to render and pack
                    assert blob == b"P" + sid.encode() and sid in premium
                    want.append((sid, title, premium[sid]))
                    kinds[sid] = kinds.get(sid, 0) + 1
                else:
                    want.append((sid, title, json.loads(unpack_json(blob))))
            assert reader.lookup_json(cs, key) == old_answer(want), (cs, key)
    reader.close()
    # Every kind of premium section was compared, on pages of every code set that has them.
    assert set(kinds) == {"ncci-edits", "mue", "rvu-payment", "add-on-codes", "gems-crosswalk"}
    assert all(n >= 2 for n in kinds.values()), kinds


def test_the_build_lists_exactly_the_sections_rendering_makes(built: Path) -> None:
    """The placeholders on the pages (and the references in the store) are the sections `PageSections`
    makes: every code page of the small project, with and without data; and the lists made for a few
    pages (the fast path of hand-written edits, which looks their codes up) are the same."""
    cfg = SiteConfig(root=built)
    pages = code_pages(built)
    keys = [(cs, k) for cs, k in store_rows(built) if cs in (CPT, HCPCS, ICD10CM, ICD10PCS)]
    probe = [*keys, (CPT, "00000"), (HCPCS, "Z9999"), (ICD10CM, "Z99.89")]
    files = premium_files(cfg)
    with SectionLists(cfg, files, pages) as lists, PageSections(cfg, pages) as render, \
            SectionLists(cfg, files, pages, only=probe) as few:
        for cs, key in probe:
            listed = [(s.id, s.kind, s.title) for s in lists(cs, key)]
            assert [s[0] for s in listed] == list(lists.ids(cs, key))  # the render's lookups made ahead
            assert listed == [(s.id, s.kind, s.title) for s in render(cs, key)], (cs, key)
            assert all(not s.html for s in lists(cs, key))  # placeholders: nothing rendered
            assert [(s.id, s.kind, s.title) for s in few(cs, key)] == listed, (cs, key)
            with SectionLists(cfg, files, pages, only=[(cs, key)]) as one:
                assert [(s.id, s.kind, s.title) for s in one(cs, key)] == listed, (cs, key)
        with pytest.raises(ValueError, match="not one of the pages"):
            few(CPT, "99999")


def test_the_snapshot_survives_a_later_import(project: Path, tmp_path: Path) -> None:
    """A `coderef import` replaces the data file; the live store still answers from the build's
    snapshot until a build names the new one (and a reader opened before then follows)."""
    cfg = SiteConfig(root=project)
    reader = StoreReader(cfg.store_path)
    before = reader.lookup_json(CPT, "99213")
    assert before is not None and b"<td>2</td>" in before
    newer = tmp_path / "MCR_MUE_PractitionerServices_Eff_07-01-2024.csv"
    newer.write_text((CMS / newer.name).read_text().replace("99213,2,3", "99213,7,3"))
    import_premium(cfg, "mue-practitioner", newer, "2024-07-01 (corrected)")
    fresh = StoreReader(cfg.store_path)
    assert fresh.lookup_json(CPT, "99213") == before  # a gate started after the import
    reader._json.clear()
    assert reader.lookup_json(CPT, "99213") == before
    renderer = reader.renderer()
    assert build(project, quiet=True, jobs=1, search=False).mode == "premium"
    after = reader.lookup_json(CPT, "99213")  # the store changed: cache and renderer follow
    assert reader.renderer() is not renderer
    assert after is not None and b"<td>7</td>" in after and b"(corrected)" in after
    assert fresh.lookup_json(CPT, "99213") == after
    # One snapshot per kind is kept: the replaced MUE file's went with the store that named it.
    names = {p.name for p in snapshots.snapshot_dir(cfg.store_path).iterdir()}
    assert len([n for n in names if n.startswith("mue-practitioner-")]) == 1
    assert names == snapshots.live_names(cfg.store_path)
    reader.close()
    fresh.close()


def test_the_renderer_outlives_rows_changed_in_place(project: Path) -> None:
    """An edited hand-written page changes its row in place: answers are read again, but the renderer
    (its snapshots opened, its tables read) is kept, as the snapshots are the same."""
    reader = StoreReader(project / "var" / "protected.sqlite")
    before = reader.lookup_json(CPT, "99213")
    renderer = reader.renderer()
    page = project / "content" / "codes" / "cpt" / "27252.md"
    page.write_text(page.read_text().replace("The physician puts", "The physician (edit) puts"))
    assert build(project, quiet=True, jobs=1, search=False).mode == "pages"
    assert reader.lookup_json(CPT, "99213") == before and reader.renderer() is renderer
    reader.close()


def test_the_covered_codes_are_cached_by_the_files_identity(project: Path) -> None:
    """What every file covers is read once per set of files (the build's cache, found again through
    the normalised files, which the snapshots are hard links of); a changed file is read again."""
    cfg = SiteConfig(root=project)
    files = premium_files(cfg)
    (cache,) = older(cfg.state_dir / "cache", COVERED_KIND)
    assert cache.name == f"{COVERED_KIND}-{covered_key(files)}.pickle"  # the build's, for the same files
    with SectionLists(cfg, files, {}) as lists:
        before = lists.covered
        assert before == covered_in(files, None)  # the plain twin
    db = sqlite3.connect(files["mue-practitioner"])
    db.execute("DELETE FROM mue")
    db.commit()
    db.close()
    with SectionLists(cfg, files, {}) as lists:
        assert lists.covered == covered_in(files, None) != before
    assert [p.name for p in older(cfg.state_dir / "cache", COVERED_KIND)] == [
        f"{COVERED_KIND}-{covered_key(files)}.pickle"
    ]


@pytest.fixture
def gate(project: Path) -> Iterator[Any]:
    with app_clients(project) as make:
        yield make()


def unlock(c: Any, codeset: str, code: str) -> Any:
    return c.post(f"/gate/unlock/{codeset}/{code}")


def test_an_unlock_answers_the_rendered_sections(gate: Any, project: Path) -> None:
    reader = StoreReader(project / "var" / "protected.sqlite")
    want = json.loads(reader.lookup_json(CPT, "99213") or b"")
    reader.close()
    first = unlock(gate, CPT, "99213")
    assert first.status_code == 200 and first.json()["sections"] == want
    assert {s["id"] for s in want} >= {"ncci-edits", "mue", "rvu-payment"}
    again = unlock(gate, CPT, "99213")  # a re-view: from the reader's cache
    assert again.status_code == 200 and again.json()["sections"] == want


def test_an_unknown_code_is_a_404_before_any_view_is_spent(gate: Any) -> None:
    gate.post("/gate/register", json={"email": "u@example.org", "password": PASSWORD})
    assert unlock(gate, CPT, "00000").status_code == 404
    assert unlock(gate, HCPCS, "not-a-code").status_code == 404
    assert gate.get("/gate/session").json()["views_used"] == 0


def _damage(folder: Path, damage: str) -> None:
    if damage == "missing":
        shutil.rmtree(folder)
    else:  # a new file in its place (the old one is a hard link to the imported data)
        victim = next(folder.glob("ncci-ptp-practitioner-*.sqlite"))
        victim.unlink()
        victim.write_bytes(b"not a database" * 100)


@pytest.mark.parametrize("damage", ["missing", "broken"])
def test_a_missing_or_broken_snapshot_is_a_503_before_any_view_is_spent(project: Path, damage: str) -> None:
    folder = snapshots.snapshot_dir(project / "var" / "protected.sqlite")
    aside = project / "aside"
    shutil.copytree(folder, aside)
    _damage(folder, damage)  # before the gate starts: it opens the snapshots as it starts
    with app_clients(project) as make:
        gate = make()
        gate.post("/gate/register", json={"email": "m@example.org", "password": PASSWORD})
        r = unlock(gate, CPT, "99213")
        assert r.status_code == 503 and int(r.headers["retry-after"]) > 0
        assert r.json()["error"] == "unavailable" and "snapshot" not in r.text and "<td>" not in r.text
        assert gate.get("/gate/session").json()["views_used"] == 0
        shutil.rmtree(folder, ignore_errors=True)
        shutil.move(aside, folder)  # back: the next unlock opens it
        assert unlock(gate, CPT, "99213").status_code == 200
        assert gate.get("/gate/session").json()["views_used"] == 1


def test_the_gate_opens_the_snapshots_as_it_starts(project: Path) -> None:
    """The first unlock after a start does not pay for opening the CMS snapshots (0.7-1.7 s on the
    default site): the gate opens them in its render thread before any request."""
    with app_clients(project) as make:
        gate = make()
        renderer = gate.app.gate.store.reader.renderer()  # the app as served: FastUnlock in front
        deadline = time.monotonic() + 30
        while not renderer.is_open and time.monotonic() < deadline:
            time.sleep(0.02)
        assert renderer.is_open
        # Once open, the snapshots are read through open files: an unlock still answers.
        assert unlock(gate, CPT, "99213").status_code == 200


@pytest.mark.shareddata
@pytest.mark.slow
def test_the_lists_equal_rendering_over_the_real_cms_files(cms_imports: Any) -> None:
    """The equivalence the build relies on, over the shipped CMS files (conftest.cms_imports: imported
    once per session): every CPT/HCPCS code with an MUE, RVU or add-on code edit for those kinds; for
    NCCI the busiest codes of each file and a spread of the others; a spread of the GEMs codes; and
    codes the files do not name."""
    from generator.premium import gems
    from generator.premium.ncci import PtpSource
    from generator.premium.sections import cms_codeset

    cfg = cms_imports.cfg
    files = premium_files(cfg)
    cheap = {"mue", "rvu-payment", "add-on-codes"}
    with SectionLists(cfg, files, {}) as lists, PageSections(cfg, {}) as render:
        covered = lists.covered
        codes = sorted(covered["mue"] | covered["rvu-payment"] | covered["add-on-codes"])
        ncci = sorted(covered["ncci-edits"])
        busiest: set[str] = set()
        for kind in ("ncci-ptp-practitioner", "ncci-ptp-hospital"):
            src = PtpSource(kind, sqlite3.connect(files[kind]))
            for col in ("c1", "c2"):
                counts = src.edit_counts(col)
                busiest |= set(sorted(counts, key=lambda c: (-counts[c], c))[:8])
            src.db.close()
        absent = ["00000", "99999", "A9999", "V9999", "0001U"]
        checked: dict[str, int] = {}
        every = [*sorted(busiest), *ncci[::60], *absent]  # every kind of section
        sample = [*((c, cheap) for c in codes), *((c, None) for c in every)]
        for code, only in sample:
            cs = cms_codeset(code)
            if cs is None:
                continue
            listed = [(s.id, s.kind, s.title) for s in lists(cs, code, only=only)]
            made = [(s.id, s.kind, s.title) for s in render(cs, code, only=only)]
            assert listed == made, (cs, code)
            for sid, _, _ in made:
                checked[sid] = checked.get(sid, 0) + 1
        for codeset in (ICD10CM, ICD10PCS):
            gem_codes = sorted(covered[f"gems-crosswalk:{codeset}"])
            for code in [*gem_codes[::150], "Z9999", "0000000"]:
                key = gems.page_key(codeset, code)
                listed = [(s.id, s.kind, s.title) for s in lists(codeset, key)]
                assert listed == [(s.id, s.kind, s.title) for s in render(codeset, key)], (codeset, key)
                checked["gems-crosswalk"] = checked.get("gems-crosswalk", 0) + len(listed)
    assert busiest & set(ncci) == busiest and len(busiest) >= 8
    assert checked["ncci-edits"] > 200 and checked["mue"] > 10_000 and checked["rvu-payment"] > 10_000
    assert checked["add-on-codes"] > 500 and checked["gems-crosswalk"] > 500


def test_a_premium_kind_made_public_is_rendered_into_the_pages(tmp_path: Path) -> None:
    from conftest import make_project

    root = make_project(tmp_path / "proj", pages=True)
    cfg_file = root / "content" / "site.yml"
    cfg_file.write_text(cfg_file.read_text() + "protected:\n  mue: false\n")
    import_all(SiteConfig(root=root))
    build(root, quiet=True, jobs=1, search=False)
    page = (root / "site" / "cpt" / "99213" / "index.html").read_text()
    # The build rendered it (public text; the page writes the dash as an entity).
    assert '<table class="mue"><thead>' in page and '<th scope="row">Practitioner</th><td>2</td>' in page
    assert 'data-section="ncci-edits"' in page and 'data-section="mue"' not in page
    ids = [sid for sid, _, _ in store_rows(root)[(CPT, "99213")]]
    assert "mue" not in ids and "ncci-edits" in ids  # the protected ones stay references
