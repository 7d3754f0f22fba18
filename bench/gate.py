"""Gate throughput: bare endpoint vs re-view and first-time unlocks, and a static code page (gzip) as
`coderef serve` answers it, on a real uvicorn (wrk or a built-in load generator)."""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
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
DURATION = int(os.environ.get("BENCH_DURATION", "5"))  # seconds per run
CONNECTIONS = 64
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
# Each first-unlock run opens codes no earlier run opened: room for 25k req/s.
STEP = 25_000 * DURATION
CODES = STEP * RUNS + 2

PAGE = ('<main id="main" data-codeset="cpt" data-code="{code}">'
        '<!--premium:s--><div class="wall"></div><!--/premium:s--></main>')


# A static code page of the size of the default site's (/cpt/99213/ is 10.9 KB, 3.1 KB gzip'd).
STATIC_PAGE = ("<!doctype html><html lang=en><head><title>S000000</title></head><body><main>"
               + "".join(f'<li><a href="/cpt/{99000 + i}/">{99000 + i}</a> Related code {i}, see notes</li>'
                         for i in range(150)) + "</main></body></html>")


def _build(root: Path) -> None:
    """A site with one page and a protected store of CODES codes (2 sections each, like real pages)."""
    sys.path.insert(0, str(REPO))
    from generator.store import Packer, StoreWriter

    (root / "site" / "cpt" / "B000000").mkdir(parents=True)
    (root / "site" / "cpt" / "B000000" / "index.html").write_text(PAGE.format(code="B000000"))
    (root / "site" / "cpt" / "S000000").mkdir(parents=True)
    (root / "site" / "cpt" / "S000000" / "index.html").write_text(STATIC_PAGE)
    packer = Packer()
    html1 = "<ul>" + "".join(f"<li>Excludes code X{i:03d}</li>" for i in range(20)) + "</ul>"
    html2 = "<table>" + "".join(f"<tr><td>{i}</td><td>edit</td></tr>" for i in range(40)) + "</table>"
    w = StoreWriter(root / "var" / "protected.sqlite", fresh=True)
    w.add_many(
        ("cpt", f"B{i:06d}", f"Bench code {i}", [
            packer("excludes1", "Excludes1", html1 + f"<p>B{i:06d}</p>"),
            packer("ncci", "NCCI", html2 + f"<p>B{i:06d}</p>"),
        ])
        for i in range(CODES)
    )
    w.commit()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`coderef serve` of `root` on a free loopback port, in bench mode with SQLite and a fixed
    development key, once it answers: the process and its base URL (the caller terminates it)."""
    import httpx

    port = _port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "CODEREF_BENCH": "1", "CODEREF_ENV": "development",
           "CODEREF_SECRET_KEYS": "bench-key-" + "b" * 32}
    env.pop("CODEREF_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gate", "--root", str(root), "serve", "--port", str(port)],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(base + "/__bench/bare", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return proc, base


def paid_account(c: Any, root: Path, email: str) -> str:
    """Registers `email` through the client `c` of the gate serving `root`, makes it a paid account
    and returns its session cookie."""
    c.post("/gate/register", json={"email": email, "password": "bench passphrase"})
    sys.path.insert(0, str(REPO))
    from gate.accounts import records as accounts
    from gate.db import Database

    db = Database(None, root / "var" / "gate.sqlite")
    db.call(accounts.set_plan, email, "paid")
    db.close()
    return "; ".join(f"{k}={v}" for k, v in c.cookies.items())


LOADGEN = textwrap.dedent('''
    import asyncio, json, sys, time
    host, port, path_tpl, method, cookie, conns, dur, start, accept = sys.argv[1:10]
    port, conns, dur, counter = int(port), int(conns), float(dur), [int(start)]
    lat = []
    async def worker(deadline):
        r, w = await asyncio.open_connection(host, port)
        while time.perf_counter() < deadline:
            path = path_tpl.replace("{n}", "%06d" % counter[0]); counter[0] += 1
            t = time.perf_counter()
            w.write((f"{method} {path} HTTP/1.1\\r\\nHost: {host}\\r\\nCookie: {cookie}\\r\\n"
                     + (f"Accept-Encoding: {accept}\\r\\n" if accept else "")
                     + "Content-Length: 0\\r\\n\\r\\n").encode())
            head = await r.readuntil(b"\\r\\n\\r\\n")
            n = int(head.lower().split(b"content-length:")[1].split(b"\\r\\n")[0])
            await r.readexactly(n)
            lat.append(time.perf_counter() - t)
        w.close()
    async def main():
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(t0 + dur) for _ in range(conns)))
        return time.perf_counter() - t0
    elapsed = asyncio.run(main())
    lat.sort()
    print(json.dumps({"rps": len(lat) / elapsed, "p50": lat[len(lat) // 2] * 1000,
                      "p99": lat[int(len(lat) * .99)] * 1000, "requests": len(lat)}))
''')


def _wrk(base: str, path: str, method: str, cookie: str, start: int, accept: str = "") -> dict[str, float]:
    extra = f', ["Accept-Encoding"] = "{accept}"' if accept else ""
    script = textwrap.dedent(f'''
        counter = {start}
        request = function()
          local p = string.gsub("{path}", "{{n}}", string.format("%06d", counter))
          counter = counter + 1
          return wrk.format("{method}", p, {{["Cookie"] = "{cookie}", ["Content-Length"] = "0"{extra}}})
        end
    ''')
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    try:
        cmd = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency", "-s", fh.name, base]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=DURATION + 60, check=False).stdout
    finally:
        os.unlink(fh.name)

    def ms(label: str) -> float:
        m = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out)
        if not m:
            raise RuntimeError(f"cannot read wrk output:\n{out}")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    if "Non-2xx" in out:
        raise RuntimeError(f"{path}: non-2xx answers during the benchmark:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    sent = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    if "{n}" in path and sent > STEP:
        raise RuntimeError(f"{sent} first unlocks in one run: more than the {STEP} fresh codes a run has")
    return {"rps": rps, "p50": ms("50%"), "p99": ms("99%"), "requests": sent}


def _load(base: str, path: str, method: str, cookie: str, start: int, accept: str = "") -> dict[str, float]:
    if shutil.which("wrk"):
        return _wrk(base, path, method, cookie, start, accept)
    host, port = base.removeprefix("http://").split(":")
    out = subprocess.run([sys.executable, "-c", LOADGEN, host, port, path, method, cookie, str(CONNECTIONS),
                          str(DURATION), str(start), accept], capture_output=True, text=True,
                         timeout=DURATION + 60, check=True)
    return dict(json.loads(out.stdout))


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) the process has used: /proc/<pid>/stat (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(root: Path) -> dict[str, Any]:
    """Measures bare / re-view / first-time unlock (paid account) / a static page (gzip); median of RUNS
    runs each.

    Besides requests per second, the server's CPU time per request (`cpu_us`): on a machine shared
    with other work the throughput moves with the neighbours' load (the same code measured 0.23x
    and 0.50x first/bare within minutes), the CPU a request costs the server much less."""
    import httpx

    work = Path(tempfile.mkdtemp(prefix="coderef-bench-gate-", dir=fast_tmp()))  # a store of 375k codes
    proc = None
    try:
        _build(work)
        proc, base = serve(work)
        with httpx.Client(base_url=base) as c:
            cookie = paid_account(c, work, "bench@example.org")
            assert c.post("/gate/unlock/cpt/B000000").json()["views_left"] is None
        cases = {
            "bare": ("/__bench/bare", "GET"),
            "review_unlock": ("/gate/unlock/cpt/B000000", "POST"),
            "first_unlock": ("/gate/unlock/cpt/B{n}", "POST"),
            "static_page": ("/cpt/S000000/", "GET"),
        }
        results: dict[str, Any] = {}
        start = 1
        for name, (path, method) in cases.items():
            runs = []
            for _ in range(RUNS):
                cpu = _cpu_seconds(proc.pid)
                r = _load(base, path, method, cookie, start, "gzip" if name == "static_page" else "")
                r["cpu_us"] = (_cpu_seconds(proc.pid) - cpu) / r["requests"] * 1e6
                runs.append(r)
                start += STEP if name == "first_unlock" else 0
            results[name] = {k: round(median(r[k] for r in runs), 2) for k in ("rps", "p50", "p99", "cpu_us")}
        bare = results["bare"]["rps"]
        results["ratio_review"] = round(results["review_unlock"]["rps"] / bare, 3)
        results["ratio_first"] = round(results["first_unlock"]["rps"] / bare, 3)
        results["ratio_static"] = round(results["static_page"]["rps"] / bare, 3)
        # The same ratios from the server's CPU per request (what the gate costs, not the machine's load).
        bare_cpu = results["bare"]["cpu_us"]
        results["cpu_ratio_review"] = round(bare_cpu / results["review_unlock"]["cpu_us"], 3)
        results["cpu_ratio_first"] = round(bare_cpu / results["first_unlock"]["cpu_us"], 3)
        results["cpu_ratio_static"] = round(bare_cpu / results["static_page"]["cpu_us"], 3)
        results["tool"] = "wrk" if shutil.which("wrk") else "asyncio"
        return results
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    r = run(REPO)
    for name in ("bare", "review_unlock", "first_unlock", "static_page"):
        f = r[name]
        print(f"{name:14s} {f['rps']:9.0f} req/s   p50 {f['p50']:6.2f} ms   p99 {f['p99']:6.2f} ms   "
              f"server CPU {f['cpu_us']:6.1f} µs/request")
    print(f"re-view / bare {r['ratio_review']:.2f} (target ≥ 0.35)   first / bare {r['ratio_first']:.2f} "
          f"(target ≥ 0.30)   static page / bare {r['ratio_static']:.2f} (target ≥ 0.5, p99 < 15 ms)   "
          f"[{r['tool']}, {CONNECTIONS} connections, median of {RUNS}]")
    print(f"by server CPU per request: re-view / bare {r['cpu_ratio_review']:.2f}   "
          f"first / bare {r['cpu_ratio_first']:.2f}   static page / bare {r['cpu_ratio_static']:.2f}")


if __name__ == "__main__":
    main()
