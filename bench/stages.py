"""The default site with every shipped public-record file (issue #16): a clean build's time per stage,
peak memory as PSS of the whole process tree (forked helpers' own pages counted once), and the
rebuilds an operator waits for: no-op, one hand-written page, one CMS file replaced by a newer one."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .common import ROOT, byte_compile, coderef, fast_tmp, make_default_project

# Stage lines of `coderef build` on stderr: "premium    52.77s", "render     199318 in 62.29s (...)".
_STAGE = re.compile(r"^(\w+)\s+(?:\d+ in )?([\d.]+)s\b", re.M)
_SKIP = {"build"}  # the total, printed last


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def _pss_kib(pids: list[int]) -> int:
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def timed_build(root: Path, *args: str) -> dict[str, Any]:
    """Runs `coderef build ARGS`; wall and CPU seconds (the whole tree: on a shared machine the CPU time
    is the steadier figure), stage seconds and the tree's peak PSS (sampled)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(coderef(root, "build", *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _pss_kib(_tree(proc.pid)))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    took = time.perf_counter() - t0
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"build failed ({proc.returncode}):\n{err[-2000:]}")
    stages: dict[str, float] = {}
    for name, secs in _STAGE.findall(err):
        if name not in _SKIP:
            stages[name] = stages.get(name, 0.0) + float(secs)
    written = re.search(r"(\d+) files? (?:written|changed)", out + err)
    mode = re.search(r"built \(([\w+]+)\)", out)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"s": round(took, 2), "cpu_s": round(cpu, 2), "stages": stages, "pss_mib": round(peak[0] / 1024),
            "written": int(written[1]) if written else 0, "mode": mode[1] if mode else "noop"}


def _store_rows(root: Path) -> dict[tuple[str, str], str]:
    """Each code's protected row as (section id, content hash) pairs: what an unlock returns."""
    import sqlite3

    db = sqlite3.connect(root / "var" / "protected.sqlite")
    try:
        q = ("SELECT c.codeset, c.key, group_concat(l.id || ':' || hex(b.hash), ' ') FROM codes c"
             " LEFT JOIN lists l ON l.list = c.list LEFT JOIN blobs b ON b.id = l.blob"
             " GROUP BY c.codeset, c.key")
        return {(cs, k): str(v) for cs, k, v in db.execute(q)}
    finally:
        db.close()


RUNS = 3  # rounds, each on a fresh copy of the default site: the figures are medians (machines are noisy)
SCENARIOS = (
    "clean_cold", "clean_cold_search", "clean_warm", "clean_warm_search", "noop", "one_page",
    "one_page_hcpcs", "one_cms_file",
)


def _round(base: Path, n: int) -> dict[str, Any]:
    """One round of every scenario on a fresh project (removed after it: /dev/shm is memory)."""
    out: dict[str, Any] = {}
    cold = make_default_project(base / f"cold{n}")
    try:
        out["clean_cold_search"] = timed_build(cold)  # the default `coderef build` on a fresh copy
    finally:
        shutil.rmtree(cold, ignore_errors=True)
    proj = make_default_project(base / f"proj{n}")
    try:
        out["clean_cold"] = timed_build(proj, "--no-search")  # converts the CMS files, parses everything
        out["clean_warm"] = timed_build(proj, "--no-search", "--clean")  # caches warm
        out["clean_warm_search"] = timed_build(proj, "--clean")
        out["noop"] = timed_build(proj)
        page = proj / "content" / "codes" / "cpt" / "27252.md"
        page.write_text(
            page.read_text().replace("The physician puts the ball", "The physician (edit) puts the ball")
        )
        out["one_page"] = timed_build(proj)
        # A hand-written HCPCS page: its public text is spliced into HCPCS's word index (8,400 codes).
        page = proj / "content" / "codes" / "hcpcs" / "E0601.md"
        page.write_text(page.read_text().replace("keep the airway open", "keep the upper airway open"))
        out["one_page_hcpcs"] = timed_build(proj)
        # A corrected MUE practitioner file of the same quarter: the same rows, one value changed (a file of
        # another quarter is held beside this one, and its release history takes the full build).
        import gzip

        rel = "mue/mue_practitioner_2024-07-01.tsv.gz"
        text = gzip.decompress((proj / "content" / "official" / rel).read_bytes()).decode()
        lines = text.splitlines(keepends=True)
        cells = lines[1].split("\t")
        cells[1] = str(int(cells[1]) + 1)
        lines[1] = "\t".join(cells)
        newer = base / f"mue_practitioner_2024-07-01.{n}.tsv"
        newer.write_text("".join(lines))
        rows = _store_rows(proj)
        t0 = time.perf_counter()
        corrected = "2024-07-01 (corrected)"
        command = coderef(proj, "import", "mue-practitioner", str(newer), "--release", corrected)
        subprocess.run(command, check=True, capture_output=True)
        imported = time.perf_counter() - t0
        out["one_cms_file"] = timed_build(proj)
        out["one_cms_file"]["import_s"] = round(imported, 2)
        after = _store_rows(proj)
        out["one_cms_file"]["store_rows_changed"] = sum(1 for k, v in after.items() if rows.get(k) != v)
        out["pages"] = sum(1 for _ in (proj / "site").resolve().rglob("index.html"))
    finally:
        shutil.rmtree(proj, ignore_errors=True)
    return out


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median wall time, with every run's wall and CPU seconds and the largest PSS peak."""
    ordered = sorted(runs, key=lambda r: r["s"])
    mid = dict(ordered[(len(ordered) - 1) // 2])
    mid["runs_s"] = [r["s"] for r in runs]
    mid["runs_cpu_s"] = [r["cpu_s"] for r in runs]
    mid["pss_mib"] = max(r["pss_mib"] for r in runs)
    if "import_s" in mid:
        mid["runs_import_s"] = [r["import_s"] for r in runs]
    return mid


def run(root: Path = ROOT, runs: int = RUNS) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="coderef-bench-stages-", dir=fast_tmp()))
    out: dict[str, Any] = {"tmp": str(base.parent), "runs": runs}
    byte_compile()
    try:
        rounds = []
        for n in range(runs):
            print(f"  round {n + 1} of {runs}", flush=True)
            rounds.append(_round(base, n))
        for name in SCENARIOS:
            out[name] = _median_run([r[name] for r in rounds])
        out["pages"] = rounds[0]["pages"]
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return out


def report(r: dict[str, Any]) -> list[str]:
    lines = [f"default site with the shipped public record: {r['pages']} pages ({r['tmp']}); medians of "
             f"{r['runs']} rounds, each run's seconds in brackets (wall / CPU)"]
    for name in SCENARIOS:
        f = r[name]
        stages = ", ".join(f"{k} {v:.1f}" for k, v in f["stages"].items() if v >= 0.05)
        each = " ".join(f"{s:.2f}/{c:.1f}" for s, c in zip(f["runs_s"], f["runs_cpu_s"], strict=True))
        extra = (f"; import {f['import_s']:.1f}s, store rows changed {f['store_rows_changed']:,}"
                 if "import_s" in f else "")
        lines.append(f"  {name:18s} {f['s']:6.2f}s (cpu {f['cpu_s']:.1f}s, {f['mode']})  [{each}]  PSS peak "
                     f"{f['pss_mib']:,} MiB  written {f['written']:,}{extra}\n"
                     f"      stages of the median run: {stages}")
    return lines


if __name__ == "__main__":
    import json

    os.nice(0)
    result = run()
    print(json.dumps(result, indent=2))
    for line in report(result):
        print(line)
