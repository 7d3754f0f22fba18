"""Shared fixtures: a small sample project (real theme, demo pages, small official-layout data)."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = ROOT.parent / "shared" / "data"
OFFICIAL = ROOT / "content" / "official"  # the public record the project ships (same layout as SHARED_DATA)
# The small reference books of tests/data/books (official layouts), by import kind.
BOOK_FIXTURES = {
    "icd10cm-index": "icd10cm_index_2025.xml", "icd10cm-eindex": "icd10cm_eindex_2025.xml",
    "icd10cm-neoplasm": "icd10cm_neoplasm_2025.xml", "icd10cm-drug": "icd10cm_drug_2025.xml",
    "icd10pcs-tables": "icd10pcs_tables_2024.xml", "icd10pcs-definitions": "icd10pcs_definitions_2024.xml",
    "icd10pcs-index": "icd10pcs_index_2024.xml",
}
TEST_DAY = "2026-12-02"  # the day the small sample site is built on (job listings open and close by date)


def shared_data() -> Path:
    """The real CMS files beside the checkout; skips when absent, except in CI where it must exist."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED_DATA} is missing in CI")
        pytest.skip("../shared/data is not here")
    return SHARED_DATA


def official_data(*needed: str) -> Path:
    """The folder of the real public-domain files: the project's own content/official/ when it ships
    every file `needed` (paths below it, as below ../shared/data), else ../shared/data (see
    `shared_data`)."""
    if all((OFFICIAL / rel).is_file() for rel in needed):
        return OFFICIAL
    return shared_data()


def fast_tmpdir(prefix: str) -> Path:
    """A new folder on tmpfs when the machine has one (else the default temp folder), for the full-size
    builds of the real data: ~200k small files are written in a third of the time and deleted in
    seconds instead of minutes (on disk, deleting them took 174 s on a loaded machine). The caller
    deletes it; the real-data fixtures that use it are not alive at the same time."""
    shm = Path("/dev/shm")
    fast = shm.is_dir() and os.access(shm, os.W_OK)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=shm if fast else None))


def make_project(
    dest: Path,
    *,
    site_yml: str | None = None,
    pages: bool = True,
    codesets: str = "[icd-10-cm, icd-10-pcs, cpt, hcpcs]",
    jobs: bool = True,
) -> Path:
    """A project folder using the repo's theme, the demo pages, the sample job listings and the small
    data files of tests/data."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "content").mkdir(exist_ok=True)
    if pages:
        shutil.copytree(ROOT / "content" / "codes", dest / "content" / "codes")
    if jobs:
        shutil.copytree(ROOT / "content" / "jobs", dest / "content" / "jobs")
    if (ROOT / "content" / "codesets").is_dir():
        shutil.copytree(ROOT / "content" / "codesets", dest / "content" / "codesets", dirs_exist_ok=True)
    shutil.copytree(ROOT / "themes", dest / "themes", symlinks=False)
    if site_yml is None:
        site_yml = (
            "site_name: coderef test\n"
            "base_url: https://codes.example.org\n"
            f"codesets: {codesets}\n"
            "sources:\n"
            f"  icd10cm: {DATA / 'icd10cm-sample.xml'}\n"
            f"  icd10pcs: {DATA / 'icd10pcs-sample.txt'}\n"
            + "".join(f"  {kind}: {DATA / 'books' / name}\n" for kind, name in BOOK_FIXTURES.items())
        )
    (dest / "content" / "site.yml").write_text(site_yml, encoding="utf-8")
    return dest


@pytest.fixture
def project(tmp_path: Path) -> Callable[..., Path]:
    """Factory: `project()` makes a fresh sample project in a temp folder and returns its root."""

    def factory(**kwargs: object) -> Path:
        return make_project(tmp_path / "proj", **kwargs)  # type: ignore[arg-type]

    return factory


@pytest.fixture(scope="session")
def small_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample project, built once per test session (site/ + var/protected.sqlite). Read-only!

    Built as on TEST_DAY, so that which sample job listings are open does not depend on the calendar."""
    from generator.build import build

    root = make_project(tmp_path_factory.mktemp("small") / "proj")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CODEREF_TODAY", TEST_DAY)
        build(root, quiet=True, jobs=1)
    return root


@pytest.fixture(scope="session")
def cms_imports(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The real CMS files CasePilot answers from, imported once per session (casepilot_kit.CmsImports):
    the CMS project of test_assistant_questions copies them, test_premium_shareddata checks them."""
    from casepilot_kit import import_cms

    return import_cms(tmp_path_factory.mktemp("cms-imports"))
