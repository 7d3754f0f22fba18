"""Release history benchmark: what history adds to a clean build of the default site (time, pages,
bytes), measured as the same build with and without the earlier release (FY2025) held."""
from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .common import ROOT, coderef, fast_tmp, make_default_project, median, run_timed

RUNS = 2
FY2025 = Path("content") / "official" / "icd10cm" / "icd10cm_fy2025_codes.tsv.gz"
_PHASE = re.compile(r"^(history|pages)\s+([\d.]+)s$", re.MULTILINE)
_BLOCK = re.compile(rb'<section class="block block-history".*?</section>\n', re.DOTALL)


def _clean_builds(proj: Path, runs: int) -> tuple[float, dict[str, float]]:
    """Median seconds of `build --clean --no-search` (parse cache warm) and of its history/pages phases."""
    times, phases = [], []
    for _ in range(runs):
        t, _, out = run_timed(coderef(proj, "build", "--clean", "--no-search", "--jobs", "2"))
        times.append(t)
        phases.append({m[1]: float(m[2]) for m in _PHASE.finditer(out)})
    return median(times), {k: median([p.get(k, 0.0) for p in phases]) for k in ("history", "pages")}


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
    base = Path(tempfile.mkdtemp(prefix="coderef-bench-history-", dir=fast_tmp()))
    try:
        proj = make_default_project(base / "proj")
        run_timed(coderef(proj, "build", "--no-search", "--quiet"))  # warms the parse cache
        with_s, with_phases = _clean_builds(proj, runs)
        site = (proj / "site").resolve()
        sizes = _sizes(site)
        site_bytes = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
        (proj / FY2025).unlink()
        without_s, without_phases = _clean_builds(proj, runs)
        site = (proj / "site").resolve()
        site_bytes_without = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return {
        "with_s": with_s, "without_s": without_s, "extra_s": with_s - without_s,
        "history_phase_s": with_phases["history"], "history_phase_without_s": without_phases["history"],
        "pages_phase_s": with_phases["pages"], "pages_phase_without_s": without_phases["pages"],
        "site_bytes": site_bytes, "extra_site_bytes": site_bytes - site_bytes_without, **sizes,
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
