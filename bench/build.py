"""Build benchmark: clean build pages/s (tmpfs and disk), no-op and one-page rebuild seconds, peak memory."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from .common import ROOT, coderef, fast_tmp, make_default_project, median, run_timed

RUNS = 3


def _pages(root: Path) -> int:
    site = (root / "site").resolve()
    return sum(1 for p in site.rglob("index.html"))


def run(root: Path = ROOT, runs: int = RUNS) -> dict[str, Any]:
    out: dict[str, Any] = {}
    base = Path(tempfile.mkdtemp(prefix="coderef-bench-", dir=fast_tmp()))
    try:
        cold, warm, rss = [], [], []
        for n in range(runs):
            proj = make_default_project(base / f"cold{n}")
            t, mem, _ = run_timed(coderef(proj, "build", "--no-search", "--quiet"))
            cold.append(t)
            rss.append(mem)
            if n:  # tmpfs is memory: keep one built project only
                shutil.rmtree(proj)
        proj = base / "cold0"
        pages = _pages(proj)
        for _ in range(runs):
            t, mem, _ = run_timed(coderef(proj, "build", "--no-search", "--quiet", "--clean"))
            warm.append(t)
            rss.append(mem)
        noop = [run_timed(coderef(proj, "build", "--no-search", "--quiet"))[0] for _ in range(runs)]
        page = proj / "content" / "codes" / "cpt" / "27252.md"
        text = page.read_text()
        one = []
        for n in range(runs):
            # A public section: the page file itself changes (and the protected store row).
            page.write_text(
                text.replace("The physician puts the ball", f"The physician (edit {n}) puts the ball")
            )
            one.append(run_timed(coderef(proj, "build", "--no-search", "--quiet"))[0])
        out.update(
            pages=pages,
            clean_cold_s=median(cold),
            clean_cold_pages_per_s=pages / median(cold),
            clean_warm_s=median(warm),
            clean_warm_pages_per_s=pages / median(warm),
            noop_s=median(noop),
            one_page_s=median(one),
            peak_rss_mib=max(rss),
            tmp=str(fast_tmp()),
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    disk_base = Path(tempfile.mkdtemp(prefix=".bench-disk-", dir=root))
    try:
        proj = make_default_project(disk_base / "proj")
        t, _, _ = run_timed(coderef(proj, "build", "--no-search", "--quiet"))
        out["clean_cold_disk_s"] = t
    finally:
        shutil.rmtree(disk_base, ignore_errors=True)
    return out


def report(r: dict[str, Any]) -> list[str]:
    hugo = 11.5 * r["pages"] / 98_000  # Hugo 0.111 reference, scaled to our page count
    return [
        f"build: {r['pages']} pages",
        (f"  clean build, cold caches ({r['tmp']}): {r['clean_cold_s']:.2f}s = "
        f"{r['clean_cold_pages_per_s']:.0f} pages/s "
        f"({r['clean_cold_s'] / hugo:.2f}x Hugo's {hugo:.1f}s scaled reference)"),
        f"  clean build --clean, parse cache warm: {r['clean_warm_s']:.2f}s = "
        f"{r['clean_warm_pages_per_s']:.0f} pages/s",
        f"  clean build, cold, on disk: {r['clean_cold_disk_s']:.2f}s",
        f"  no-op rebuild: {r['noop_s']:.2f}s; one hand-written page changed: {r['one_page_s']:.2f}s",
        f"  peak memory (largest process): {r['peak_rss_mib']:.0f} MiB",
    ]
