"""CasePilot: the build's extra time and disk for the assistant's facts, and deterministic answers under load
on one `coderef serve` worker (wrk, POSTing the question set), with the in-process answer times
beside them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from statistics import median
from typing import Any

from .common import fast_tmp

REPO = Path(__file__).resolve().parents[1]
DURATION = int(os.environ.get("BENCH_DURATION", "5"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
CONNECTIONS = 4  # latency as one worker serves a few clients at once (more only queue)


def _project(tmp: Path) -> Path:
    """The default site with every CMS file the project ships imported (the question set's project)."""
    from casepilot_kit import build_cms_project, import_cms

    (tmp / "imports").mkdir()
    root: Path = build_cms_project(tmp / "proj", REPO / "content" / "official", import_cms(tmp / "imports"))
    return root


def _build_cost(root: Path) -> dict[str, Any]:
    """The assistant stage alone, on the loaded models of a full build (medians), and the bytes it adds."""
    from generator.assistant_facts import FactsJob, facts_path
    from generator.inputs import load_inputs
    from generator.load import load_models

    loaded = load_inputs(root)
    models = load_models(loaded.cfg, loaded.pages, loaded.problems, quiet=True, jobs=2)
    times = []
    for _ in range(RUNS):
        job = FactsJob(loaded.cfg)
        t0 = time.perf_counter()
        job.write(models, loaded.guides)
        times.append(time.perf_counter() - t0)
        job.publish()
    path = facts_path(loaded.cfg)
    snaps = list((path.parent / "assistant.d").iterdir())
    linked = sum(p.stat().st_size for p in snaps if p.stat().st_nlink > 1)
    pages = sum(
        p.stat().st_size
        for d in ("casepilot", "guides")
        for p in (root / "site" / d).rglob("*")
        if p.is_file()
    )
    return {
        "seconds": round(median(times), 2),
        "facts_bytes": path.stat().st_size,
        "snapshot_bytes_linked": linked,
        "snapshot_bytes_copied": sum(p.stat().st_size for p in snaps) - linked,
        "page_bytes": pages,
        "guides": len(loaded.guides),
    }


def _in_process(root: Path, questions: list[dict[str, Any]]) -> dict[str, float]:
    from gate.assistant import CasePilot
    from generator.assistant_facts import facts_path
    from generator.config import SiteConfig

    pilot = CasePilot(facts_path(SiteConfig(root=root)))
    for case in questions:  # warm: open the facts and the page cache once
        pilot.deterministic(case["q"], case.get("ctx"))
    lat = []
    for _ in range(5):
        for case in questions:
            t0 = time.perf_counter()
            pilot.deterministic(case["q"], case.get("ctx"))
            lat.append((time.perf_counter() - t0) * 1000)
    pilot.close()
    lat.sort()
    return {"p50": round(lat[len(lat) // 2], 3), "p99": round(lat[int(len(lat) * 0.99)], 3), "n": len(lat)}


def _wrk(base: str, bodies: list[str]) -> dict[str, float]:
    items = ",".join(json.dumps(b) for b in bodies)
    script = textwrap.dedent(f"""
        local bodies = {{{items}}}
        local i = 0
        request = function()
          i = i % #bodies + 1
          return wrk.format("POST", "/gate/ask", {{["Content-Type"] = "application/json"}}, bodies[i])
        end
    """)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency", "-s", fh.name, base],
            capture_output=True,
            text=True,
            timeout=DURATION + 60,
            check=False,
        ).stdout
    finally:
        os.unlink(fh.name)
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers during the benchmark:\n{out}")

    def ms(label: str) -> float:
        m = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out)
        if not m:
            raise RuntimeError(f"cannot read wrk output:\n{out}")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50": ms("50%"), "p99": ms("99%")}


def _server_times(base: str, reset: bool) -> dict[str, float]:
    import httpx

    url = f"{base}/__bench/timings" + ("?reset=1" if reset else "")
    times: dict[str, float] = httpx.get(url, timeout=10).json()
    return times


def run(root: Path) -> dict[str, Any]:
    del root
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "tests"))  # the question set and the CMS test project
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is missing (scripts/install-bench.sh installs it)")

    given = os.environ.get("BENCH_PILOT_ROOT")  # a project already built with the CMS data: no set-up
    # tmpfs (about 2 GB while it runs): deleting ~200k files from this ext4 disk takes minutes and
    # slows file creation for whatever runs next.
    tmp = Path(tempfile.mkdtemp(prefix="bench-pilot-", dir=fast_tmp()))
    try:
        t0 = time.perf_counter()
        proj = Path(given) if given else _project(tmp)
        result: dict[str, Any] = {"setup_seconds": round(time.perf_counter() - t0, 1)}
        from casepilot_checks import question_set as qs
        from fixtures.gate.sitekit import env_for, uvicorn_server

        questions = qs()
        result["build"] = _build_cost(proj)
        result["in_process_ms"] = _in_process(proj, questions)
        bodies = [json.dumps({"question": c["q"], "context": c.get("ctx") or ""}) for c in questions]
        runs = []
        # Bench mode: the server times each answer itself (gate/timing.py), beside wrk's client figures.
        with uvicorn_server(proj, env_for(proj, CODEREF_BENCH="1"), module="generator.cli") as base:
            _wrk(base, bodies[:10])  # warm-up
            for _ in range(RUNS):
                _server_times(base, reset=True)
                run = _wrk(base, bodies)
                server = _server_times(base, reset=True)
                runs.append({**run, "server_p50": server["p50"], "server_p99": server["p99"]})
        keys = ("rps", "p50", "p99", "server_p50", "server_p99")
        result["http"] = {k: round(median(r[k] for r in runs), 2) for k in keys}
        result["http_runs"] = runs
        result["questions"] = len(questions)
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(r: dict[str, Any]) -> list[str]:
    b, h, p = r["build"], r["http"], r["in_process_ms"]
    mb = 1024 * 1024
    return [
        (
            f"assistant build stage: {b['seconds']:.2f} s (median of {RUNS}); var/assistant.sqlite "
            f"{b['facts_bytes'] / mb:.1f} MB; CMS snapshots hard-linked "
            f"{b['snapshot_bytes_linked'] / mb:.1f} MB "
            f"(no extra disk), copied {b['snapshot_bytes_copied'] / mb:.1f} MB; /casepilot/ and "
            f"{b['guides']} guide "
            f"pages {b['page_bytes'] / 1024:.0f} KB"
        ),
        (f"deterministic answers in-process over {r['questions']} questions: p50 {p['p50']:.2f} ms, p99 "
         f"{p['p99']:.2f} ms"),
        (
            f"POST /gate/ask, 1 uvicorn worker, wrk {CONNECTIONS} connections, the question set in turn: "
            f"{h['rps']:.0f} req/s; in the server p50 {h['server_p50']:.2f} ms, "
            f"p99 {h['server_p99']:.2f} ms; at the client p50 {h['p50']:.2f} ms, p99 {h['p99']:.2f} ms "
            f"(median of {RUNS} runs of {DURATION} s)"
        ),
    ]
