"""CasePilot test kit: a small built project with the guides and the LCD/modifier imports, and a client."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import DATA, ROOT, make_project, official_data

from generator.config import SiteConfig
from generator.premium.db import data_file

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "official"  # slices of ../shared/data/fixtures


def assistant_yml(
    plans: str = "guest: {asks: 2, per: day}\n    free: {asks: 20, per: month}\n    paid: {asks: null}",
    rate_limit: int = 30,
) -> str:
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
    of tests/fixtures/official imported."""
    root = make_project(dest, site_yml=site_yml or assistant_yml())
    shutil.copytree(ROOT / "content" / "guides", root / "content" / "guides")
    if fixtures:
        from generator.config import SiteConfig
        from generator.premium import import_premium

        cfg = SiteConfig(root=root)
        import_premium(cfg, "lcd", FIXTURES / "lcd_documents_sample.csv")
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


# Every CMS kind CasePilot answers from; the files are those generator/official.py ships (the same paths
# below ../shared/data).
CMS_IMPORTS = (
    "ncci-ptp-practitioner", "ncci-ptp-hospital", "mue-practitioner", "mue-hospital", "mue-dme", "ncci-aoc",
    "pprrvu", "gpci", "gem-cm-to-icd9", "gem-icd9-to-cm", "gem-pcs-to-icd9", "gem-icd9-to-pcs",
    "icd9-descriptions-dx", "icd9-descriptions-sg", "hcpcs-modifiers", "lcd",
)
CMS_SITE_YML = (
    "site_name: coderef\nbase_url: https://codes.example.org\ncodesets: [icd-10-cm, icd-10-pcs, cpt, hcpcs]\n"
    "assistant:\n  plans:\n    guest: {asks: null}\n    free: {asks: null}\n    paid: {asks: null}\n"
    "  rate_limit: 1000000\n"
)


def official_file(kind: str, data: Path) -> Path:
    """The file of `kind` in `data` (content/official/ or ../shared/data: see conftest.official_data)."""
    from generator.official import SHIPPED

    return data / SHIPPED[kind].path


@dataclass(frozen=True)
class CmsImports:
    """The CMS files of CMS_IMPORTS, imported once: where their normalised files are, and rows per kind."""

    cfg: SiteConfig
    rows: dict[str, int]

    def copy_to(self, cfg: SiteConfig) -> None:
        """Gives another project the same imports (a copy of the normalised files)."""
        for kind in CMS_IMPORTS:
            target = data_file(cfg, kind)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(data_file(self.cfg, kind), target)


def import_cms(root: Path) -> CmsImports:
    """Every CMS kind CasePilot answers from, imported into a config at `root` (4.3M NCCI rows among
    them: half a minute); conftest's session fixture `cms_imports` does it once for CasePilot's CMS
    project and the real-data premium checks alike."""
    from generator.official import SHIPPED
    from generator.premium import import_premium

    data = official_data(*(SHIPPED[k].path for k in CMS_IMPORTS))
    cfg = SiteConfig(root=root)
    return CmsImports(cfg, {kind: import_premium(cfg, kind, official_file(kind, data)).rows
                            for kind in CMS_IMPORTS})


def build_cms_project(dest: Path, data: Path, imports: CmsImports) -> Path:
    """The default site (packaged ICD-10-CM FY2026 and ICD-10-PCS, the demo pages, the guides) with every
    official CMS file of `data` imported (conftest.official_data), as `coderef import`
    does, and built. HCPCS comes from CMS's 2020 file, whose modifiers get pages of their own."""
    from generator.config import SiteConfig
    from generator.importers.hcpcs import HcpcsImporter
    from generator.imports import import_codeset
    root = make_project(dest, site_yml=CMS_SITE_YML)
    shutil.copytree(ROOT / "content" / "guides", root / "content" / "guides")
    cfg = SiteConfig(root=root)
    hcpcs = official_file("hcpcs-modifiers", data)
    import_codeset(cfg, HcpcsImporter(), hcpcs, hcpcs.name)
    imports.copy_to(cfg)
    # `coderef build` in a process of its own: the test process stays small (a full build holds
    # ~0.5 GB of models).
    command = [sys.executable, "-m", "generator", "--root", str(root), "build", "--no-search", "--quiet"]
    subprocess.run(command, check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return root
