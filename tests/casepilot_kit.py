"""CasePilot test kit: a small built project with the guides and the LCD/modifier imports, and a client."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DATA, ROOT, SHARED_DATA, make_project

FIXTURES = SHARED_DATA / "fixtures"


def assistant_yml(plans: str = "guest: {asks: 2, per: day}\n    free: {asks: 20, per: month}\n    paid: {asks: null}",
                  rate_limit: int = 30) -> str:
    return (
        "site_name: coderef test\n"
        "base_url: https://codes.example.org\n"
        "codesets: [icd-10-cm, icd-10-pcs, cpt, hcpcs]\n"
        "sources:\n"
        f"  icd10cm: {DATA / 'icd10cm-sample.xml'}\n"
        f"  icd10pcs: {DATA / 'icd10pcs-sample.txt'}\n"
        "assistant:\n"
        f"  plans:\n    {plans}\n"
        f"  rate_limit: {rate_limit}\n"
    )


def make_casepilot_project(dest: Path, site_yml: str | None = None, *, fixtures: bool = True) -> Path:
    """The sample project plus content/guides; with `fixtures`, the small official LCD and HCPCS slices
    of ../shared/data/fixtures imported (skipped when that folder is absent outside CI)."""
    root = make_project(dest, site_yml=site_yml or assistant_yml())
    shutil.copytree(ROOT / "content" / "guides", root / "content" / "guides")
    if fixtures and FIXTURES.is_dir():
        from generator.config import SiteConfig
        from generator.premium import import_premium

        cfg = SiteConfig(root=root)
        import_premium(cfg, "lcd-documents", FIXTURES / "lcd_documents_sample.csv")
        import_premium(cfg, "hcpcs-modifiers", FIXTURES / "HCPC2020_ANWEB_sample.txt")
        import_premium(cfg, "mue-practitioner", FIXTURES / "mue_practitioner_sample.tsv")
        import_premium(cfg, "ncci-ptp-practitioner", FIXTURES / "ptp_practitioner_sample.tsv")
    return root


def build_casepilot_project(dest: Path, site_yml: str | None = None) -> Path:
    from generator.build import build

    root = make_casepilot_project(dest, site_yml)
    build(root, quiet=True, jobs=1, search=False)
    return root


@pytest.fixture(scope="module")
def casepilot_small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The small CasePilot project, built once per module (read-only; copy it to serve it)."""
    yield build_casepilot_project(tmp_path_factory.mktemp("casepilot") / "proj")
