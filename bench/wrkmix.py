"""wrk driving bench/mixed.lua: the request lists as a Lua data file, the run, its per-kind figures."""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parent / "mixed.lua"
KINDS = ("page", "asset", "search", "session", "review", "first", "login")
_SAFE = re.compile(r"^[\x20-\x7e\t]*$")


@dataclass
class Traffic:
    """What the load generator may ask for; cookies are whole Cookie header values."""

    weights: dict[str, int]  # kind -> requests per 1,000
    page: list[str]
    asset: list[str]
    search: list[str]
    session: list[str]  # members' cookies
    review: list[tuple[str, str]]  # (cookie, unlock path of a code that member has unlocked)
    first: list[str]  # unlock paths of codes no member has unlocked yet
    login: list[str]  # JSON bodies of members' logins
    first_members: list[str] = field(default_factory=list)  # cookies of the members taking first views
    first_offset: int = 0  # where this run's codes start in `first`
    first_window: int = 0  # how many from there are this run's (one block per thread); 0: all


@dataclass
class KindFigures:
    n: int
    ok: int
    bad: int
    bytes: int
    p50_ms: float
    p99_ms: float
    rps: float


@dataclass
class MixRun:
    seconds: float
    requests: int
    errors: int
    kinds: dict[str, KindFigures] = field(default_factory=dict)
    wrk_cpu_s: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def write_data(traffic: Traffic, path: Path, threads: int) -> Path:
    """The request lists as "name value" lines (bench/mixed.lua reads them in each wrk thread)."""
    lines = []
    for kind in KINDS:
        if traffic.weights.get(kind):
            if not getattr(traffic, kind) or (kind == "first" and not traffic.first_members):
                raise ValueError(f"the traffic has weight for '{kind}' but nothing to ask for")
            lines.append(f"weight {kind} {traffic.weights[kind]}")
    end = traffic.first_offset + traffic.first_window if traffic.first_window else len(traffic.first)
    first = traffic.first[traffic.first_offset:end]
    lines.append(f"first_block {max(1, len(first) // threads)}")
    lists: dict[str, list[str]] = {"page": traffic.page, "asset": traffic.asset, "search": traffic.search,
                                   "session": traffic.session, "first": first, "login": traffic.login,
                                   "first_member": traffic.first_members,
                                   "review": [f"{cookie}\t{target}" for cookie, target in traffic.review]}
    for name, values in lists.items():
        for value in values:
            if not _SAFE.match(value):
                raise ValueError(f"not one line of printable ASCII: {value[:80]!r}")
            lines.append(f"{name} {value}")
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def _percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[max(0, math.ceil(len(sorted_values) * p) - 1)]


def _figures(lines: list[str], seconds: float) -> dict[str, KindFigures]:
    by_kind: dict[str, list[tuple[int, float, int]]] = {}
    for line in lines:
        kind, status, took, size = line.split()
        by_kind.setdefault(kind, []).append((int(status), float(took), int(size)))
    figures = {}
    for kind in KINDS:
        rows = by_kind.get(kind)
        if not rows:
            continue
        lat = sorted(r[1] for r in rows)
        ok = sum(1 for r in rows if 200 <= r[0] < 300)
        figures[kind] = KindFigures(len(rows), ok, len(rows) - ok, sum(r[2] for r in rows),
                                    _percentile(lat, 0.5) / 1000, _percentile(lat, 0.99) / 1000,
                                    len(rows) / seconds)
    return figures


def _wrk(base: str, traffic: Traffic, out_dir: Path, threads: int, connections: int, seconds: int,
         timed: bool) -> tuple[dict[str, Any], float]:
    """Runs wrk on bench/mixed.lua; returns the figures it printed and wrk's CPU seconds."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is missing: `sh scripts/install-bench.sh` (make bench runs it) installs it")
    data = write_data(traffic, out_dir / "data.lua", connections)
    before = os.times()
    try:
        out = subprocess.run(
            [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "20s",
             "-s", str(SCRIPT), base, "--", str(data), str(out_dir)],
            capture_output=True, text=True, timeout=seconds + 90, check=False,
            env={**os.environ, "CODEREF_WRK_TIMED": "1" if timed else "0"},
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"wrk ran {seconds + 90} s for a {seconds} s run and was stopped") from exc
    after = os.times()
    tag = "CODEREF-MIX "
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith(tag)), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return dict(json.loads(line.removeprefix(tag))), cpu


def run_wrk(base: str, traffic: Traffic, work: Path, *, connections: int, seconds: int) -> MixRun:
    """Mixed kinds, each timed: `connections` threads with one keep-alive connection each."""
    out_dir = Path(tempfile.mkdtemp(prefix="wrk-", dir=work))
    try:
        raw, cpu = _wrk(base, traffic, out_dir, connections, connections, seconds, timed=True)
        lines = [ln for f in sorted(out_dir.glob("thread-*.txt")) for ln in f.read_text().splitlines()]
    finally:
        shutil.rmtree(out_dir)
    return MixRun(raw["seconds"], raw["requests"], raw["errors"], _figures(lines, raw["seconds"]), cpu)


def run_static(base: str, traffic: Traffic, work: Path, *, connections: int, seconds: int) -> MixRun:
    """Pages, assets and search files only, timed together by wrk itself: two threads and no
    per-response Lua, so the load generator takes as little CPU as it can."""
    out_dir = Path(tempfile.mkdtemp(prefix="wrk-", dir=work))
    try:
        raw, cpu = _wrk(base, traffic, out_dir, 2, connections, seconds, timed=False)
    finally:
        shutil.rmtree(out_dir)
    n, bad = raw["requests"], raw["errors"] + raw["status_errors"]
    static = KindFigures(n, n - bad, bad, raw["bytes"], raw["p50_us"] / 1000, raw["p99_us"] / 1000,
                         n / raw["seconds"])
    return MixRun(raw["seconds"], n, raw["errors"], {"static": static}, cpu)
