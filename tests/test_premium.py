"""The premium package's build interface: inputs, CPT code-number pages and sections per page."""
from __future__ import annotations

from pathlib import Path

from cms_fixtures import import_all

from generator.config import SiteConfig
from generator.model import CPT
from generator.premium import extra_records, premium_inputs, premium_sections


def test_nothing_imported_means_nothing(tmp_path: Path) -> None:
    cfg = SiteConfig(root=tmp_path)
    assert premium_inputs(cfg) == []
    assert list(extra_records(cfg, {})) == []
    assert list(premium_sections(cfg, {"cpt": {"99213"}})) == []


def test_cpt_code_number_pages_have_no_descriptor(tmp_path: Path) -> None:
    cfg = SiteConfig(root=tmp_path)
    import_all(cfg)
    assert len(premium_inputs(cfg)) == 14
    records = list(extra_records(cfg, {CPT: {"99213"}}))
    keys = [r.key for r in records]
    assert "99213" not in keys and "45378" in keys and "G0105" not in keys
    rec = next(r for r in records if r.key == "45378")
    # No title: the page then says the AMA descriptor is not shown (no "45378 CPT® 45378" heading).
    assert (rec.codeset, rec.kind, rec.title, rec.parent) == ("cpt", "code", "", "cpt-45xxx")
    assert rec.facts == [] and rec.sections == []
    # The source line names the CMS data and its release, not the operator's local file names.
    assert "NCCI PTP edits 2024-07-01" in rec.source and "Medicare PFS relative values" in rec.source
    assert ".csv" not in rec.source and ".txt" not in rec.source
    groups = [r for r in records if r.kind == "group"]
    assert keys.index("cpt-45xxx") < keys.index("45378")
    assert all(r.parent in {g.key for g in groups} for r in records if r.kind == "code")


def test_sections_for_every_covered_page_only(tmp_path: Path) -> None:
    cfg = SiteConfig(root=tmp_path)
    import_all(cfg)
    pages = {"cpt": {"99213", "45378", "11045"}, "hcpcs": {"G0105", "A4253"},
             "icd-10-cm": {"E11.40", "E66.9"}, "icd-10-pcs": {"0DTN0ZZ"}}
    got = {(cs, k, s.id) for cs, k, s in premium_sections(cfg, pages)}
    assert ("cpt", "99213", "ncci-edits") in got and ("cpt", "99213", "mue") in got
    assert ("cpt", "99213", "rvu-payment") in got and ("cpt", "11045", "add-on-codes") in got
    assert ("hcpcs", "G0105", "ncci-edits") in got and ("hcpcs", "A4253", "mue") in got
    assert ("icd-10-cm", "E11.40", "gems-crosswalk") in got
    assert ("icd-10-pcs", "0DTN0ZZ", "gems-crosswalk") in got
    assert not any(k == "E66.9" for _, k, _ in got)  # not in the fixture GEMs
    assert {k for _, k, _ in got} <= set().union(*pages.values())


def test_sections_are_protected_by_default_and_config_can_open_them(tmp_path: Path) -> None:
    cfg = SiteConfig(root=tmp_path)
    import_all(cfg)
    sections = [s for _, _, s in premium_sections(cfg, {"cpt": {"99213", "11045"}, "icd-10-cm": {"E11.40"}})]
    assert {s.kind for s in sections} == {"ncci-ptp", "mue", "rvu", "add-on-codes", "crosswalk"}
    assert all(cfg.is_protected(s.kind, s.protected) for s in sections)
    cfg.protected["mue"] = False
    assert not cfg.is_protected("mue")


def test_built_cpt_code_number_page_says_the_descriptor_is_not_shown(project) -> None:  # type: ignore[no-untyped-def]
    from generator.build import build

    root = project(pages=False)
    import_all(SiteConfig(root=root), ["ncci-ptp-practitioner", "pprrvu"])
    build(root, quiet=True, jobs=1)
    html = (root / "site" / "cpt" / "45378" / "index.html").read_text(encoding="utf-8")
    assert '<h1 id="page-title"><span class="h1-code">CPT® 45378</span></h1>' in html
    assert "Official descriptor not shown" in html and "AMA licence" in html
    assert "PPRRVU24_JUL.csv" not in html and "ccipra" not in html
