"""Premium sections rendered on first unlock (issue #16): the render of the heaviest codes in-process,
and their first and repeated unlocks through a real gate (uvicorn, paid account), with how long a
cheap request waits while the heaviest renders (the render runs in a worker thread, off the loop).

`BENCH_PROJECT=/path` measures a project already built (else the default site is built in a
temporary folder first: a clean build, about a minute and a half)."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

from .common import ROOT, coderef, fast_tmp, make_default_project

FIXED = [("cpt", "99213"), ("cpt", "36415"), ("hcpcs", "G0463"), ("hcpcs", "J1100"), ("hcpcs", "E0601"),
         ("icd-10-cm", "E11.9"), ("icd-10-pcs", "0DTJ4ZZ")]
BUSIEST = 6  # the codes with most NCCI edits (both files, both columns)


def heaviest(store: Path) -> list[tuple[str, str]]:
    """FIXED and the codes with most NCCI edits (as the store's snapshots count them) that have pages."""
    from generator import snapshots
    from generator.premium import ncci
    from generator.premium.sections import cms_codeset

    db = sqlite3.connect(store)
    row = db.execute("SELECT value FROM meta WHERE key=?", (snapshots.STORE_META,)).fetchone()
    names = json.loads(row[0])
    pages = {(str(cs), str(k)) for cs, k in db.execute("SELECT codeset, key FROM code_pages")}
    db.close()
    counts: dict[str, int] = {}
    for kind in ("ncci-ptp-practitioner", "ncci-ptp-hospital"):
        if kind not in names:
            continue
        ptp = ncci.PtpSource(kind, sqlite3.connect(snapshots.paths(store, names)[kind]))
        for col in ("c1", "c2"):
            for code, n in ptp.edit_counts(col).items():
                counts[code] = counts.get(code, 0) + n
        ptp.db.close()
    busy = [(cms_codeset(c) or "", c) for c in sorted(counts, key=lambda c: (-counts[c], c))]
    return [*FIXED, *[k for k in busy if k in pages][:BUSIEST]]


def in_process(store: Path, codes: list[tuple[str, str]]) -> dict[str, Any]:
    """Each code's render (ms, answer bytes) by the store's reader, cold: nothing cached."""
    from generator.store_reader import StoreReader

    reader = StoreReader(store)
    renderer = reader.renderer()
    t0 = time.perf_counter()
    renderer.open()
    out: dict[str, Any] = {"open_ms": round((time.perf_counter() - t0) * 1000, 1), "codes": {}}
    for cs, key in codes:
        entry = reader.entry(cs, key)
        if entry is None:
            continue
        t = time.perf_counter()
        data = reader.render(entry, renderer)
        out["codes"][f"{cs}/{key}"] = {"ms": round((time.perf_counter() - t) * 1000, 2), "bytes": len(data),
                                       "sections": len(entry.premium)}
    reader.close()
    return out


async def _probe(base: str, cookie: str, path: str) -> tuple[float, list[float]]:
    """POSTs `path` while GETting the bare endpoint every millisecond: the unlock's ms, and each bare
    request's ms meanwhile."""
    import httpx

    async with httpx.AsyncClient(base_url=base, headers={"Cookie": cookie}) as c:
        await c.get("/__bench/bare")
        bare: list[float] = []
        done = asyncio.Event()

        async def poke() -> None:
            while not done.is_set():
                t = time.perf_counter()
                await c.get("/__bench/bare")
                bare.append((time.perf_counter() - t) * 1000)
                await asyncio.sleep(0.001)

        task = asyncio.create_task(poke())
        t = time.perf_counter()
        r = await c.post(path)
        took = (time.perf_counter() - t) * 1000
        done.set()
        await task
        assert r.status_code == 200, r.text[:200]
        return took, bare


def through_gate(proj: Path, codes: list[tuple[str, str]]) -> dict[str, Any]:
    import httpx

    from .gate import paid_account, serve

    proc, base = serve(proj)
    try:
        with httpx.Client(base_url=base) as c:
            cookie = paid_account(c, proj, f"ondemand-{time.time_ns()}@example.org")
        out: dict[str, Any] = {"codes": {}}
        busiest = codes[len(FIXED)] if len(codes) > len(FIXED) else codes[-1]
        # The first unlock of all (the gate opens the snapshots as it starts: it may still be at it);
        # then the busiest NCCI code, with them open.
        for name, (cs, key) in (("first_of_all", codes[0]), ("busiest", busiest)):
            took, bare = asyncio.run(_probe(base, cookie, f"/gate/unlock/{cs}/{key}"))
            out[name] = {"code": f"{cs}/{key}", "ms": round(took, 1), "bare_during": len(bare),
                         "bare_during_ms_max": round(max(bare), 2) if bare else None,
                         "bare_during_ms_median": round(median(bare), 2) if bare else None}
        with httpx.Client(base_url=base, headers={"Cookie": cookie}) as c:
            for cs, key in codes:
                first = None
                if (cs, key) not in (codes[0], busiest):
                    t = time.perf_counter()
                    r = c.post(f"/gate/unlock/{cs}/{key}")
                    first = round((time.perf_counter() - t) * 1000, 1)
                    assert r.status_code == 200, r.text[:200]
                again = []
                for _ in range(5):
                    t = time.perf_counter()
                    r = c.post(f"/gate/unlock/{cs}/{key}")
                    again.append((time.perf_counter() - t) * 1000)
                out["codes"][f"{cs}/{key}"] = {"first_ms": first, "again_ms": round(median(again), 2),
                                               "bytes": len(r.content)}
        return out
    finally:
        proc.terminate()
        proc.wait(10)


def run(root: Path = ROOT) -> dict[str, Any]:
    given = os.environ.get("BENCH_PROJECT")
    base = None
    try:
        if given:
            proj = Path(given)
        else:
            base = Path(tempfile.mkdtemp(prefix="coderef-bench-ondemand-", dir=fast_tmp()))
            proj = make_default_project(base / "proj")
            subprocess.run(coderef(proj, "build", "--no-search"), check=True, capture_output=True)
        store = proj / "var" / "protected.sqlite"
        codes = heaviest(store)
        return {"render": in_process(store, codes), "gate": through_gate(proj, codes)}
    finally:
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)


def report(r: dict[str, Any]) -> list[str]:
    lines = [f"in-process render (cold, snapshots opened in {r['render']['open_ms']} ms):"]
    for code, f in r["render"]["codes"].items():
        lines.append(f"  {code:18s} {f['ms']:8.2f} ms  {f['bytes'] / 1024:7.1f} KiB  "
                     f"{f['sections']} sections")
    g = r["gate"]
    for name, what in (("first_of_all", "first unlock of all (opens the snapshots)"),
                       ("busiest", "first unlock of the busiest NCCI code")):
        f = g[name]
        lines.append(f"gate: {what}, {f['code']}: {f['ms']} ms; {f['bare_during']} bare requests meanwhile: "
                     f"median {f['bare_during_ms_median']} ms, max {f['bare_during_ms_max']} ms")
    for code, c in g["codes"].items():
        first = "(above)" if c["first_ms"] is None else f"{c['first_ms']:7.1f} ms"
        lines.append(f"  {code:18s} first {first}   again {c['again_ms']:6.2f} ms   "
                     f"{c['bytes'] / 1024:7.1f} KiB")
    return lines


if __name__ == "__main__":
    result = run()
    print(json.dumps(result, indent=2))
    for line in report(result):
        print(line)
