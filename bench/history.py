"""Release history benchmark: what history adds to a clean build of the default site (time, pages,
bytes), measured as the same build with and without the earlier release (FY2025) held."""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import ROOT, coderef, fast_tmp, make_default_project, median, run_timed

RUNS = 3
FY2025 = Path("content") / "official" / "icd10cm" / "icd10cm_fy2025_codes.tsv.gz"
_PHASE = re.compile(r"^(history|pages)\s+([\d.]+)s$", re.MULTILINE)
_BLOCK = re.compile(rb'<section class="block block-history".*?</section>\n', re.DOTALL)


def _clean_build(proj: Path) -> tuple[float, dict[str, float]]:
    """Seconds of one `build --clean --no-search` (parse cache warm) and of its history/pages phases
    (the build prints them on stderr)."""
    args = coderef(proj, "build", "--clean", "--no-search", "--jobs", "2")
    t0 = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return took, {m[1]: float(m[2]) for m in _PHASE.finditer(proc.stderr)}


def _sizes(site: Path) -> dict[str, int]:
    """Bytes and files of the change pages and the deleted codes' pages; bytes of the history blocks."""
    changes = [p for p in (site / "icd-10-cm" / "changes").rglob("*") if p.is_file()]
    pages = list((site / "icd-10-cm").glob("*/index.html"))
    deleted = [p for p in pages if b'content="noindex"' in p.read_bytes()[:2000]]
    blocks = 0
    for p in pages:
        m = _BLOCK.search(p.read_bytes())
        blocks += len(m.group(0)) if m else 0
    return {
        "change_pages": len(changes), "change_bytes": sum(p.stat().st_size for p in changes),
        "deleted_pages": len(deleted), "deleted_bytes": sum(p.stat().st_size for p in deleted),
        "history_block_bytes": blocks,
    }


def run(root: Path = ROOT, runs: int = RUNS) -> dict[str, Any]:
    """Builds with and without FY2025 held, alternately (a shared machine's load hits both alike)."""
    base = Path(tempfile.mkdtemp(prefix="coderef-bench-history-", dir=fast_tmp()))
    try:
        proj = make_default_project(base / "proj")
        held = proj / FY2025
        aside = base / FY2025.name
        run_timed(coderef(proj, "build", "--no-search", "--quiet"))  # warms the parse cache
        timed: dict[bool, list[tuple[float, dict[str, float]]]] = {True: [], False: []}
        sizes: dict[str, int] = {}
        site_bytes: dict[bool, int] = {}
        for _ in range(runs):
            for with_fy2025 in (True, False):
                if with_fy2025 and not held.exists():
                    shutil.move(aside, held)
                elif not with_fy2025:
                    shutil.move(held, aside)
                timed[with_fy2025].append(_clean_build(proj))
                site = (proj / "site").resolve()
                if with_fy2025 and not sizes:
                    sizes = _sizes(site)
                site_bytes[with_fy2025] = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    finally:
        shutil.rmtree(base, ignore_errors=True)

    def med(with_fy2025: bool, phase: str | None = None) -> float:
        runs_ = timed[with_fy2025]
        return median([t if phase is None else p.get(phase, 0.0) for t, p in runs_])

    return {
        "with_s": med(True), "without_s": med(False), "extra_s": med(True) - med(False),
        "history_phase_s": med(True, "history"), "history_phase_without_s": med(False, "history"),
        "pages_phase_s": med(True, "pages"), "pages_phase_without_s": med(False, "pages"),
        "site_bytes": site_bytes[True], "extra_site_bytes": site_bytes[True] - site_bytes[False], **sizes,
    }


def report(r: dict[str, Any]) -> list[str]:
    mib = 1024 * 1024
    return [
        f"history: clean build (--no-search, warm parse cache) {r['with_s']:.2f}s with FY2025 held, "
        f"{r['without_s']:.2f}s without: {r['extra_s']:+.2f}s",
        f"  history phase (load stage) {r['history_phase_s']:.2f}s (without FY2025: "
        f"{r['history_phase_without_s']:.2f}s); pages phase {r['pages_phase_s']:.2f}s "
        f"(without: {r['pages_phase_without_s']:.2f}s)",
        f"  change pages: {r['change_pages']} files, {r['change_bytes'] / 1024:.0f} KiB; deleted codes: "
        f"{r['deleted_pages']} pages, {r['deleted_bytes'] / 1024:.0f} KiB",
        f"  history blocks on ICD-10-CM pages: {r['history_block_bytes'] / mib:.1f} MiB; the site grows by "
        f"{r['extra_site_bytes'] / mib:.1f} MiB of {r['site_bytes'] / mib:.0f} MiB",
    ]
