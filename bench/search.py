"""Benchmark of the search stage on the full default ICD-10-CM and ICD-10-PCS models.

`run(root)` measures, in a child process: model load, index build time and peak memory (the child's
and its Pagefind processes' max RSS), a rebuild that changes one code set, file count and size; then
the bytes Chromium downloads for the first page of results of three typical queries on /search/.
Run: `.venv/bin/python bench/search.py [ROOT]`.
"""
from __future__ import annotations

import functools
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
QUERIES = (
    "hip dislocation", "fracture of femur", "type 2 diabetes", "resection sigmoid colon", "E11.9", "0dtn0zz",
    "zzzzqqq",
)


def _child(out_dir: Path) -> dict[str, Any]:
    """Runs in a fresh process: load the models, index twice (all, then one code set)."""
    sys.path.insert(0, str(REPO))
    from generator import search
    from generator.config import SiteConfig
    from generator.errors import Problems
    from generator.importers import codeset_importers
    from generator.link import link

    t0 = time.perf_counter()
    imps = codeset_importers()
    models = {}
    for kind in ("icd10cm", "icd10pcs"):
        imp = imps[kind]
        src = imp.default_source()
        assert src is not None, f"{kind}: no packaged file"
        models[imp.codeset] = link(imp.codeset, list(imp.read(src)), Problems())
    t1 = time.perf_counter()
    cfg = SiteConfig(root=out_dir, codesets=list(models))
    files = search.index_codesets(cfg, models, out_dir / "cache", set(models))
    t2 = time.perf_counter()
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    rss_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    pcs = "icd-10-pcs"
    models[pcs].records[-1].title += " (changed)"
    again = search.index_codesets(cfg, models, out_dir / "cache", {pcs})
    t3 = time.perf_counter()
    unchanged = again["icd-10-cm"] == files["icd-10-cm"] and again[pcs] != files[pcs]
    per_set = {}
    for cs, fl in again.items():
        paths = {p for _, p in fl}
        per_set[cs] = {
            "records": len(models[cs].records),
            "files": len(fl),
            "fragments": sum(1 for r, _ in fl if "/fragment/" in r),
            "bytes": sum(p.stat().st_size for p in paths),
        }
    published = json.dumps({cs: [[r, str(p)] for r, p in fl] for cs, fl in again.items()})
    (out_dir / "files.json").write_text(published)
    return {
        "load_s": round(t1 - t0, 2),
        "index_s": round(t2 - t1, 2),
        "peak_rss_mb": {"python": round(rss_self / 2**20), "pagefind_max_one": round(rss_children / 2**20)},
        "reindex_one_set_s": round(t3 - t2, 2),
        "reindex_touched_only_changed_set": unchanged,
        "per_codeset": per_set,
        # lookup/index.json is shared by the code sets
        "total_files": sum(v["files"] for v in per_set.values()) - (len(per_set) - 1),
        "total_mb": round(sum(v["bytes"] for v in per_set.values()) / 1e6, 1),
    }


def _measure_queries(out_dir: Path) -> dict[str, Any]:
    sys.path.insert(0, str(REPO / "tests"))
    from playwright.sync_api import sync_playwright
    from test_search import _Handler, write_site  # the same minimal site the browser tests use

    raw = json.loads((out_dir / "files.json").read_text())
    files = {cs: [(r, Path(p)) for r, p in fl] for cs, fl in raw.items()}
    site = out_dir / "site"
    write_site(site, {}, files)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_port}"
    out: dict[str, Any] = {}
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            for q in QUERIES:
                ctx = b.new_context()
                page = ctx.new_page()
                seen: list[Any] = []
                page.on("requestfinished", functools.partial(list.append, seen))
                t0 = time.perf_counter()
                page.goto(f"{base}/search/?q={q}")
                page.wait_for_selector("#search-page-status:not(:has-text('…'))", timeout=60_000)
                elapsed = time.perf_counter() - t0
                page.wait_for_load_state("networkidle")
                raw_bytes = 0
                gz_bytes = 0
                n = 0
                detail: list[tuple[int, str]] = []
                for req in seen:
                    path = req.url.split(base, 1)[-1]
                    if not (path.startswith(("/pagefind/", "/lookup/")) or "search.js" in path):
                        continue
                    sizes = req.sizes()
                    body = sizes["responseBodySize"]
                    raw_bytes += body + sizes["responseHeadersSize"]
                    n += 1
                    resp = req.response()
                    data = resp.body() if resp else b""
                    # Pagefind's .pf_* files are gzip already; a host compresses the rest (JS, JSON, wasm).
                    g = len(data) if ".pf_" in path else len(gzip.compress(data, 6))
                    gz_bytes += g
                    detail.append((g, path.split("?")[0]))
                top = page.locator("#search-page-results .search-code").all_inner_texts()[:5]
                chips = [
                    c.replace("\n", " ") for c in page.locator("#search-page-chips .chip").all_inner_texts()
                ]
                out[q] = {
                    "requests": n, "bytes_uncompressed_server": raw_bytes, "bytes_gzip_host": gz_bytes,
                    "top5": top, "chips": chips, "seconds_to_results": round(elapsed, 2),
                    "largest": sorted(detail, reverse=True)[:8],
                }
                ctx.close()
            b.close()
    finally:
        srv.shutdown()
        srv.server_close()
    return out


def run(root: Path) -> dict[str, Any]:
    """Builds the full default search index under a temp folder and measures it (see module doc)."""
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        out_dir = Path(tmp)
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(out_dir)],
            cwd=root, capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"indexing child failed:\n{proc.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(json.dumps(result), file=sys.stderr)
        result["queries"] = _measure_queries(out_dir)
    return result


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(_child(Path(sys.argv[2]))))
    else:
        print(json.dumps(run(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO), indent=2))
