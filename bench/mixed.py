"""Mixed load through the production deployment: nginx on deploy/nginx.conf.example (TLS, the
tests' loopback rendering) in front of one and of three `coderef serve` gates sharing PostgreSQL,
serving the real ICD-10-CM site; wrk (bench/mixed.lua) sends pages, assets, search files, session
reads, unlocks and logins and times each kind. Then each kind alone on one gate ("probes"): its
throughput, the CPU it costs nginx, the gate and PostgreSQL, and the rows it writes.

`BENCH_MIXED_ROOT=DIR` reuses a project built earlier by this benchmark (it keeps nothing itself).
"""
from __future__ import annotations

import json
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .common import ROOT, coderef, fast_tmp, make_default_project
from .cpu import cpu_seconds, spent
from .wrkmix import KINDS, MixRun, Traffic, run_static, run_wrk

sys.path.insert(0, str(ROOT / "tests"))  # the deployment kit of tests/test_deploy_*.py: same stack

from fixtures.deploy import postgres
from fixtures.deploy.stack import Deployment, deployment

SECONDS = int(os.environ.get("BENCH_MIX_SECONDS", "10"))
PROBE_SECONDS = int(os.environ.get("BENCH_PROBE_SECONDS", "5"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
CONNECTIONS = 32
POOL = 4  # CODEREF_PG_POOL_SIZE, the product default
MEMBERS = 32
FIRST_MEMBERS = 64  # each ends a default run with about a hundred unlocks this period
PASSWORD = "bench passphrase, long enough"
# Requests per 1,000. A browser's code page view is the page (assets come from its cache after the
# first visit) and one gate call: GET /gate/session on every page, plus the unlock on code pages.
MIX = {"page": 400, "asset": 150, "search": 100, "session": 259, "review": 45, "first": 45, "login": 1}
PROBES = {"static": {"page": 600, "asset": 250, "search": 150}, "session": {"session": 1},
          "review": {"review": 1}, "first": {"first": 1}, "login": {"login": 1}}
# Limits that would refuse a benchmark's repeated logins and registrations from one address; the
# counting they do still runs on every attempt.
ENV = {"CODEREF_REGISTRATIONS_PER_IP": "1000000", "CODEREF_LOGIN_FAILURES_PER_CLIENT": "1000000",
       "CODEREF_LOGIN_FAILURES_PER_ACCOUNT": "1000000", "CODEREF_LOGIN_FAILURES_PER_IP": "1000000"}
# Free members whose allowance a run cannot exhaust: every first view takes the counted path
# (lock, count, insert in one transaction) that a real free account's views take.
WRITES = ("tup_inserted", "tup_updated", "tup_deleted")
METER = "meter:\n  plans: {guest: 1, free: 1000000, paid: null}\n"


def _configure(root: Path) -> None:
    """ICD-10-CM alone, and the benchmark's meter (the gate reads it when it starts)."""
    yml = root / "content" / "site.yml"
    text = re.sub(r"^codesets: .*$", "codesets: [icd-10-cm]", yml.read_text(encoding="utf-8"), flags=re.M)
    text = re.sub(r"^meter:\n(?:[ \t]+.*\n)*", "", text, flags=re.M)
    yml.write_text(text.rstrip("\n") + "\n" + METER, encoding="utf-8")


def _project() -> tuple[Path, Path | None]:
    """The real ICD-10-CM site (the default content, that code set alone), built on tmpfs; or the
    project of BENCH_MIXED_ROOT (built by an earlier run of this benchmark)."""
    reuse = os.environ.get("BENCH_MIXED_ROOT")
    if reuse:
        _configure(Path(reuse))
        return Path(reuse), None
    tmp = Path(tempfile.mkdtemp(prefix="coderef-bench-mixed-", dir=fast_tmp()))
    root = make_default_project(tmp / "proj")
    _configure(root)
    subprocess.run(coderef(root, "build", "--quiet"), check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return root, tmp


def _static_lists(site: Path, rng: random.Random) -> tuple[list[str], list[str], list[str], list[str]]:
    """(code pages, assets, search files, codes with protected sections) sampled from the site."""
    from generator.store_reader import StoreReader

    codes = sorted(p.name for p in (site / "icd-10-cm").iterdir() if (p / "index.html").is_file())
    pages = [f"/icd-10-cm/{c}/" for c in rng.sample(codes, min(5000, len(codes)))] + ["/"]
    assets = [f"/assets/{p.name}" for p in sorted((site / "assets").iterdir())]
    search = [f"/{p.relative_to(site)}" for p in sorted((site / "lookup").rglob("*.json"))]
    fragments = sorted((site / "pagefind").rglob("*.pf_*"))
    search += [f"/{p.relative_to(site)}" for p in rng.sample(fragments, min(1500, len(fragments)))]
    reader = StoreReader(site.parent / "var" / "protected.sqlite")
    try:
        protected = [c for c in codes if reader.lookup_json("icd-10-cm", c) is not None]
    finally:
        reader.close()
    rng.shuffle(protected)
    return pages, assets, search, protected


def _register(dep: Deployment, email: str) -> tuple[Any, str]:
    c = dep.client()
    r = c.post("/gate/register", json={"email": email, "password": PASSWORD})
    if r.status_code != 201:
        c.close()
        raise RuntimeError(f"registering {email}: {r.status_code} {r.text[:200]}")
    return c, "; ".join(f"{k}={v}" for k, v in c.cookies.items())


def _members(dep: Deployment, protected: list[str]) -> dict[str, Any]:
    """MEMBERS free accounts that read their session, re-view their two codes and log in, like a
    typical member; FIRST_MEMBERS more taking the first views (their unlock lists grow)."""
    cookies, review, logins, first = [], [], [], []
    for i in range(MEMBERS):
        email = f"member{i}@example.org"
        c, cookie = _register(dep, email)
        try:
            for code in protected[2 * i: 2 * i + 2]:
                path = f"/gate/unlock/icd-10-cm/{code}"
                if c.post(path).status_code != 200:
                    raise RuntimeError(f"unlocking {code} for {email} failed")
                review.append((cookie, path))
        finally:
            c.close()
        cookies.append(cookie)
        logins.append(json.dumps({"email": email, "password": PASSWORD}))
    for i in range(FIRST_MEMBERS):
        c, cookie = _register(dep, f"reader{i}@example.org")
        c.close()
        first.append(cookie)
    return {"session": cookies, "review": review, "login": logins, "first_members": first}


def _pids(dep: Deployment, db: str) -> dict[str, list[int]]:
    gates = [g.proc.pid for g in dep.gates if g.proc is not None]
    backends = postgres.ConnectionWatch(db).backend_pids()
    return {"nginx": dep.nginx.pids(), "gates": gates, "postgres": backends}


def _mixed(dep: Deployment, db: str, traffic: Traffic, work: Path) -> tuple[MixRun, dict[str, float]]:
    pids = _pids(dep, db)
    before = {part: cpu_seconds(p) for part, p in pids.items()}
    started = time.monotonic()
    run = run_wrk(dep.base, traffic, work, connections=CONNECTIONS, seconds=SECONDS)
    wall = time.monotonic() - started  # wrk's start and end included: that is when CPU was read
    after = {part: cpu_seconds(p) for part, p in pids.items()}
    cpu = {part: spent(before[part], after[part]) / wall for part in pids}
    cpu["wrk"] = run.wrk_cpu_s / wall
    return run, cpu


def _probe(dep: Deployment, db: str, traffic: Traffic, work: Path) -> dict[str, Any]:
    """One kind alone: rate, latency, CPU per request of each part, rows written per request."""
    postgres.end_connections(db)  # flushes the statistics of every backend; pools reconnect
    start = postgres.counters(db)
    pids = _pids(dep, db)
    before = {part: cpu_seconds(p) for part, p in pids.items() if part != "postgres"}
    load = run_static if set(traffic.weights) <= {"page", "asset", "search"} else run_wrk
    started = time.monotonic()
    run = load(dep.base, traffic, work, connections=CONNECTIONS, seconds=PROBE_SECONDS)
    wall = time.monotonic() - started
    after = {part: cpu_seconds(p) for part, p in pids.items() if part != "postgres"}
    backends = postgres.ConnectionWatch(db).backend_pids()  # all opened since end_connections
    pg_cpu = sum(cpu_seconds(backends).values())
    postgres.end_connections(db)
    end = postgres.counters(db)
    n = max(1, run.requests)
    ok = sum(k.ok for k in run.kinds.values())
    kinds = list(run.kinds.values())
    main = kinds[0]
    return {
        "rps": round(run.rps, 1), "ok": ok, "requests": run.requests,
        "p50_ms": round(main.p50_ms, 2), "p99_ms": round(main.p99_ms, 2),
        "us_nginx": round(1e6 * spent(before["nginx"], after["nginx"]) / n, 1),
        "us_gate": round(1e6 * spent(before["gates"], after["gates"]) / n, 1),
        "us_postgres": round(1e6 * pg_cpu / n, 1),
        "wrk_cpu_share": round(run.wrk_cpu_s / wall, 2),
        "commits": round((end["xact_commit"] - start["xact_commit"]) / n, 2),
        "rows_written": round(sum(end[k] - start[k] for k in WRITES) / n, 2),
        "bytes": round(sum(k.bytes for k in kinds) / n),
    }


def _median_mix(runs: list[tuple[MixRun, dict[str, float]]]) -> dict[str, Any]:
    bad = sum(k.bad for r, _ in runs for k in r.kinds.values()) + sum(r.errors for r, _ in runs)
    out: dict[str, Any] = {"rps": round(statistics.median(r.rps for r, _ in runs), 1), "bad": bad}
    for kind in KINDS:
        got = [r.kinds[kind] for r, _ in runs if kind in r.kinds]
        if got:
            out[kind] = {"rps": round(statistics.median(k.rps for k in got), 1),
                         "p50_ms": round(statistics.median(k.p50_ms for k in got), 2),
                         "p99_ms": round(statistics.median(k.p99_ms for k in got), 2),
                         "bytes": round(statistics.median(k.bytes / k.n for k in got))}
    out["cpu"] = {part: round(statistics.median(c[part] for _, c in runs), 2) for part in runs[0][1]}
    return out


def run(root: Path) -> dict[str, Any]:
    rng = random.Random(19)
    project, tmp = _project()
    work = Path(tempfile.mkdtemp(prefix="coderef-bench-mixed-run-", dir=fast_tmp()))
    env = {**ENV, "CODEREF_SECRET_KEYS": secrets.token_urlsafe(32)}  # one key: cookies outlive a restart
    results: dict[str, Any] = {"connections": CONNECTIONS, "seconds": SECONDS, "runs": RUNS, "mix": MIX}
    try:
        pages, assets, search, protected = _static_lists(project / "site", rng)
        first_pool = [f"/gate/unlock/icd-10-cm/{c}" for c in protected[2 * MEMBERS:]]
        # Every run that asks for first views gets codes of its own: the "first" probe and the mixes.
        window = len(first_pool) // (1 + 2 * RUNS)
        windows = iter(range(0, len(first_pool), window))
        base = Traffic(MIX, pages, assets, search, [], [], first_pool, [], first_window=window)
        with postgres.own_database("coderef_bench", 4 * POOL + 2) as db:
            for gates in (1, 3):
                with deployment(project, work / f"g{gates}", gates=gates, database_url=db.url,
                                pool_size=POOL, workers="auto", access_log=False, extra_env=env) as dep:
                    if not base.session:
                        base = Traffic(**{**asdict(base), **_members(dep, protected)})
                    if gates == 1:
                        results["probes"] = {
                            name: _probe(dep, db.name, _with(base, w, next(windows) if "first" in w else 0),
                                         work)
                            for name, w in PROBES.items()
                        }
                    runs = [_mixed(dep, db.name, _with(base, MIX, next(windows)), work) for _ in range(RUNS)]
                    results[f"gates_{gates}"] = _median_mix(runs)
                    for r, _ in runs:
                        if "first" in r.kinds and r.kinds["first"].n > 0.7 * window:
                            n = r.kinds["first"].n
                            results["note"] = f"a run asked for {n} first views of {window} codes"
        results["first_codes"] = len(first_pool)
        results["capacity"] = capacity(results)
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _with(base: Traffic, weights: dict[str, int], offset: int) -> Traffic:
    return Traffic(**{**asdict(base), "weights": weights, "first_offset": offset})


def capacity(r: dict[str, Any]) -> dict[str, Any]:
    """Per-core rates (1e6 / CPU µs per request) and bytes per code page view, from the probes."""
    probes, mix = r["probes"], r["gates_1"]

    def per_core(kind: str, part: str) -> int:
        us = probes[kind][f"us_{part}"]
        return round(1e6 / us) if us else 0

    unlock = (mix["review"]["bytes"] + mix["first"]["bytes"]) // 2
    view = mix["page"]["bytes"] + mix["session"]["bytes"] + unlock
    return {
        "nginx_static_per_core": per_core("static", "nginx"),
        "gate_per_process": {k: per_core(k, "gate") for k in ("session", "review", "first", "login")},
        "postgres_per_core": {k: per_core(k, "postgres") for k in ("session", "review", "first", "login")},
        "bytes_per_code_page_view": view,
    }


def report(r: dict[str, Any]) -> list[str]:
    one, three = r["gates_1"], r["gates_3"]
    lines = [f"mixed load through nginx (TLS, keep-alive; the real ICD-10-CM site), wrk {r['connections']} "
             f"connections, {r['seconds']} s runs, median of {r['runs']}; requests per 1,000: "
             + ", ".join(f"{k} {v}" for k, v in r["mix"].items()),
             f"{'kind':8s} {'1 gate: req/s':>14s} {'p50 ms':>7s} {'p99 ms':>7s}   "
             f"{'3 gates: req/s':>14s} {'p50 ms':>7s} {'p99 ms':>7s} {'bytes':>7s}"]
    for kind in KINDS:
        if kind in one:
            a, b = one[kind], three.get(kind, {})
            lines.append(f"{kind:8s} {a['rps']:14.1f} {a['p50_ms']:7.2f} {a['p99_ms']:7.2f}   "
                         f"{b.get('rps', 0):14.1f} {b.get('p50_ms', 0):7.2f} {b.get('p99_ms', 0):7.2f} "
                         f"{a['bytes']:7d}")
    lines.append(f"{'total':8s} {one['rps']:14.1f} {'':15s}   {three['rps']:14.1f}   "
                 f"(non-2xx or failed: {one['bad']} / {three['bad']})")
    for label, g in (("1 gate", one), ("3 gates", three)):
        lines.append(f"CPU cores busy, {label}: " + ", ".join(f"{k} {v:.2f}" for k, v in g["cpu"].items()))
    lines.append("each kind alone, 1 gate: req/s, p50 / p99 ms, CPU µs per request (nginx / gate / "
                 "PostgreSQL), commits and rows written per request, bytes per answer")
    for name, p in r["probes"].items():
        lines.append(f"  {name:8s} {p['rps']:8.1f}  {p['p50_ms']:6.2f} / {p['p99_ms']:7.2f}  "
                     f"{p['us_nginx']:6.1f} / {p['us_gate']:7.1f} / {p['us_postgres']:6.1f} µs  "
                     f"{p['commits']:5.2f} commits {p['rows_written']:5.2f} rows {p['bytes']:6d} B"
                     f"  (ok {p['ok']}/{p['requests']}; wrk {p['wrk_cpu_share']:.2f} core)")
    c = r["capacity"]
    gate = ", ".join(f"{k} {v}" for k, v in c["gate_per_process"].items())
    pg = ", ".join(f"{k} {v}" for k, v in c["postgres_per_core"].items())
    lines += [f"per core-second: nginx {c['nginx_static_per_core']} static reads; a gate process {gate}; "
              f"PostgreSQL {pg}",
              "bytes per code page view (page + session + unlock; assets cached): "
              f"{c['bytes_per_code_page_view']}"]
    if "note" in r:
        lines.append(r["note"])
    return lines
