"""Benchmark of the search stage on the full default ICD-10-CM and ICD-10-PCS models and the books.

`run(root)` measures, in a child process: model load, the books' load and cross-references, the word
index built without the books and with them (the books' extra time), peak memory, a rebuild that changes
one code set, file count and size; then the bytes Chromium downloads for the first page of results of
typical queries on /search/. The books are the shared FY2025 index files and 2024 PCS files when
`../shared/data` is there (else the index holds titles and public text only).
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
SHARED = REPO.parent / "shared" / "data"
QUERIES = (
    "hip dislocation", "fracture of femur", "broken arm", "ear infection", "acetaminophen overdose",
    "malignant neoplasm of lung", "laparoscopic appendectomy", "type 2 diabetes", "E11.9", "0dtn0zz",
    "zzzzqqq",
)
BOOKS = {
    "icd10cm-index": "icd10cm-index/icd10cm_index_2025_reconstructed.xml.gz",
    "icd10cm-eindex": "icd10cm-index/icd10cm_eindex_2025.xml.gz",
    "icd10cm-neoplasm": "icd10cm-index/icd10cm_neoplasm_2025.xml.gz",
    "icd10cm-drug": "icd10cm-index/icd10cm_drug_2025.xml.gz",
    "icd10pcs-tables": "icd10pcs/icd10pcs_tables_2024_reconstructed.xml.gz",
    "icd10pcs-definitions": "icd10pcs/icd10pcs_definitions_2024_reconstructed.xml.gz",
    "icd10pcs-index": "icd10pcs/icd10pcs_index_2024_reconstructed.xml.gz",
}


def _child(out_dir: Path) -> dict[str, Any]:
    """Runs in a fresh process: load the models and books, index without and with the books, then one
    code set again."""
    sys.path.insert(0, str(REPO))
    from generator import book_sections, search
    from generator.config import SiteConfig
    from generator.errors import Problems
    from generator.importers import book_importers, codeset_importers
    from generator.link import link
    from generator.reference import Books, References

    t0 = time.perf_counter()
    imps = codeset_importers()
    models = {}
    for kind in ("icd10cm", "icd10pcs"):
        imp = imps[kind]
        src = imp.default_source()
        assert src is not None, f"{kind}: no packaged file"
        models[imp.codeset] = link(imp.codeset, list(imp.read(src)), Problems())
    t1 = time.perf_counter()
    books = Books()
    if SHARED.is_dir():
        readers = book_importers()
        for kind, rel in BOOKS.items():
            book = readers[kind].read(SHARED / rel)
            if kind.startswith("icd10cm"):
                books.cm[kind] = book  # type: ignore[assignment]
            elif kind == "icd10pcs-index":
                books.pcs_index = book  # type: ignore[assignment]
            elif kind == "icd10pcs-tables":
                books.pcs_tables = book  # type: ignore[assignment]
            else:
                books.pcs_definitions = book  # type: ignore[assignment]
    t2 = time.perf_counter()
    cfg = SiteConfig(root=REPO, codesets=list(models))
    bare = search.index_codesets(cfg, models, out_dir / "bare", set(models), search.Extra(inputs="bare"))
    t3 = time.perf_counter()
    refs = References(books)
    book_sections.attach(models, refs)
    t4 = time.perf_counter()
    extra = search.extra_for(cfg, books)
    files = search.index_codesets(cfg, models, out_dir / "cache", set(models), extra)
    t5 = time.perf_counter()
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    pcs = "icd-10-pcs"
    models[pcs].records[-1].title += " (changed)"
    again = search.index_codesets(cfg, models, out_dir / "cache", {pcs}, extra)
    t6 = time.perf_counter()
    unchanged = again["icd-10-cm"] == files["icd-10-cm"] and again[pcs] != files[pcs]
    per_set = {}
    for cs, fl in again.items():
        words = [p for r, p in fl if "/w/" in r]
        per_set[cs] = {
            "records": len(models[cs].records),
            "files": len(fl),
            "word_files": len(words),
            "bytes": sum(p.stat().st_size for _, p in fl),
            "word_bytes": sum(p.stat().st_size for p in words),
            "word_bytes_gzip": sum(len(gzip.compress(p.read_bytes(), 6)) for p in words),
            "bare_word_bytes": sum(p.stat().st_size for r, p in bare[cs] if "/w/" in r),
        }
    published = json.dumps({cs: [[r, str(p)] for r, p in fl] for cs, fl in again.items()})
    (out_dir / "files.json").write_text(published)
    return {
        "books": SHARED.is_dir(),
        "load_s": round(t1 - t0, 2),
        "books_load_s": round(t2 - t1, 2),
        "index_without_books_s": round(t3 - t2, 2),
        "book_sections_s": round(t4 - t3, 2),
        "index_with_books_s": round(t5 - t4, 2),
        "peak_rss_mb": round(rss_self / 2**20),
        "reindex_one_set_s": round(t6 - t5, 2),
        "reindex_touched_only_changed_set": unchanged,
        "per_codeset": per_set,
        # lookup/index.json is shared by the code sets
        "total_files": sum(v["files"] for v in per_set.values()) - (len(per_set) - 1),
        "total_mb": round(sum(v["bytes"] for v in per_set.values()) / 1e6, 1),
        "word_index_mb_gzip": round(sum(v["word_bytes_gzip"] for v in per_set.values()) / 1e6, 1),
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
                page.wait_for_selector("#search-page-status:not(:has-text('…'))", timeout=120_000)
                elapsed = time.perf_counter() - t0
                page.wait_for_load_state("networkidle")
                raw_bytes = 0
                gz_bytes = 0
                n = 0
                detail: list[tuple[int, str]] = []
                for req in seen:
                    path = req.url.split(base, 1)[-1]
                    if not (path.startswith("/lookup/") or "search.js" in path):
                        continue
                    sizes = req.sizes()
                    body = sizes["responseBodySize"]
                    raw_bytes += body + sizes["responseHeadersSize"]
                    n += 1
                    resp = req.response()
                    data = resp.body() if resp else b""
                    g = len(gzip.compress(data, 6))  # what a host serving gzip sends
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


def report(r: dict[str, Any]) -> list[str]:
    books = "imported" if r["books"] else "absent (no ../shared/data)"
    extra = r["index_with_books_s"] - r["index_without_books_s"]
    lines = [
        f"search: books {books}; models load {r['load_s']}s, books load {r['books_load_s']}s, "
        f"page sections from books {r['book_sections_s']}s",
        f"  word index without books {r['index_without_books_s']}s, with books {r['index_with_books_s']}s "
        f"(extra {extra:.1f}s); one code set again {r['reindex_one_set_s']}s",
        f"  files {r['total_files']}, {r['total_mb']} MB on disk; "
        f"word index {r['word_index_mb_gzip']} MB gzip'd; "
        f"peak {r['peak_rss_mb']} MB",
    ]
    for q, m in r["queries"].items():
        kb = m["bytes_gzip_host"] / 1024
        lines.append(f"  {q!r}: {kb:.0f} KB in {m['requests']} requests, top {m['top5'][:3]}")
    return lines
