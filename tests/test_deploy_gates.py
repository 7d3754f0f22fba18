"""The production deployment, run: Debian's nginx on deploy/nginx.conf.example in front of three
`coderef serve` gates (production mode) sharing one PostgreSQL database of this run's own.

PostgreSQL budget (the server is shared and allows 100 connections in all): each gate keeps at
most POOL connections (CODEREF_PG_POOL_SIZE), and so does the operator's CLI (`coderef accounts
create`, same settings) while it runs: BUDGET = (GATES + 1) × POOL = 8 on this run's database,
asserted from pg_stat_activity. The connection watch adds one on the maintenance database: 9 for
the run. The role the gates log in as has a hard CONNECTION LIMIT of BUDGET + 1 as a safety belt
for the shared server.
"""
from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fixtures.deploy.postgres import ConnectionWatch, own_database
from fixtures.deploy.sample import code, marker, metered_site
from fixtures.deploy.stack import Deployment, deployment
from fixtures.deploy.traffic import burst, cookie_header

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

GATES = 3
POOL = 2
BUDGET = (GATES + 1) * POOL
ROLE_LIMIT = BUDGET + 1  # + the watch: never more than 10 on the shared server
PASSWORD = "a long enough passphrase"
PRO_VIEWS = 60  # the `pro` plan of this site: enough views to keep unlocking through a gate's death
PAGES = 200 + 2 * PRO_VIEWS  # V9000… V9319: story, race and load use separate codes


@dataclass
class Stack:
    dep: Deployment
    watch: ConnectionWatch
    root: Path

    def within_budget(self) -> None:
        peak = self.watch.peak
        assert self.watch.samples > 0
        assert 1 <= peak <= BUDGET, f"{peak} PostgreSQL connections at peak; the budget is {BUDGET}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("deploy-gates")
    plans = f"meter:\n  plans: {{guest: 1, free: 6, paid: null, pro: {PRO_VIEWS}}}\n"
    root = metered_site(work / "proj", PAGES, meter=plans)
    with own_database("coderef_deploy", ROLE_LIMIT) as db:
        watch = ConnectionWatch(db.name).start()
        try:
            with deployment(root, work, gates=GATES, database_url=db.url, pool_size=POOL) as dep:
                yield Stack(dep, watch, root)
        finally:
            watch.stop()


def post(c: httpx.Client, path: str, base: str, **kwargs: object) -> httpx.Response:
    """A same-origin POST as a browser sends it (Origin names the site, port included)."""
    return c.post(path, headers={"Origin": base, "Sec-Fetch-Site": "same-origin"}, **kwargs)  # type: ignore[arg-type]


def register(c: httpx.Client, base: str, email: str) -> httpx.Response:
    return post(c, "/gate/register", base, json={"email": email, "password": PASSWORD})


def test_meter_story_through_nginx(stack: Stack) -> None:
    dep = stack.dep
    with dep.client("127.0.0.21") as c:
        page = c.get(f"/hcpcs/{code(0)}/")
        assert page.status_code == 200 and marker(code(0)) not in page.text  # premium text is not public
        first = post(c, f"/gate/unlock/hcpcs/{code(0)}", dep.base)
        assert first.status_code == 200, first.text
        assert marker(code(0)) in first.text and first.json()["views_left"] == 0
        assert c.cookies.get("__Host-coderef_guest")  # Secure cookies: the gate saw https through nginx
        wall = post(c, f"/gate/unlock/hcpcs/{code(1)}", dep.base)
        assert wall.status_code == 402 and marker(code(1)) not in wall.text
        nojs = c.get(f"/gate/page/hcpcs/{code(1)}/")
        assert nojs.status_code == 200 and marker(code(1)) not in nojs.text

        reg = register(c, dep.base, "story@example.org")
        assert reg.status_code == 201, reg.text
        assert reg.json()["views_left"] == 5  # six free views, one already used as a guest
        for i in range(1, 6):
            got = post(c, f"/gate/unlock/hcpcs/{code(i)}", dep.base)
            assert got.status_code == 200 and marker(code(i)) in got.text
            assert got.json()["views_left"] == 5 - i
        again = post(c, f"/gate/unlock/hcpcs/{code(0)}", dep.base)  # re-opening is free
        assert again.status_code == 200 and again.json()["views_left"] == 0
        spent = post(c, f"/gate/unlock/hcpcs/{code(6)}", dep.base)
        assert spent.status_code == 402 and marker(code(6)) not in spent.text
        session = c.get("/gate/session").json()
        assert session["views_used"] == 6 and session["plan"] == "free"
        assert {u["code"] for u in session["unlocked"]} == {code(i) for i in range(6)}
        assert post(c, "/gate/logout", dep.base).status_code == 200
        assert c.get("/gate/session").json()["account"] is None
        login = post(c, "/gate/login", dep.base, json={"email": "story@example.org", "password": PASSWORD})
        assert login.status_code == 200 and c.get("/gate/session").json()["views_left"] == 0
    stack.within_budget()


def test_race_with_one_view_left_grants_exactly_one(stack: Stack) -> None:
    dep = stack.dep
    with dep.client("127.0.0.22") as c:
        assert register(c, dep.base, "race@example.org").status_code == 201
        for i in range(10, 15):
            assert post(c, f"/gate/unlock/hcpcs/{code(i)}", dep.base).status_code == 200
        assert c.get("/gate/session").json()["views_left"] == 1
        cookie = cookie_header(c)
    statuses = burst(dep.base, dep.tls.context, "127.0.0.22",
                     [f"/gate/unlock/hcpcs/{code(i)}" for i in range(100, 200)], cookie)
    assert statuses.count(200) == 1, statuses
    assert statuses.count(402) == 99, statuses
    with dep.client("127.0.0.22") as c:
        c.cookies.update(dict(pair.split("=", 1) for pair in cookie.split("; ")))
        state = c.get("/gate/session").json()
        assert state["views_used"] == 6 and state["views_left"] == 0
    served = {line.split()[3] for line in dep.nginx.log_lines() if "/gate/unlock/hcpcs/V91" in line}
    assert len(served) == GATES  # nginx spread the burst over every gate
    stack.within_budget()


def _create_pro(stack: Stack, email: str) -> None:
    """The operator's CLI against the shared database: a `pro` account (PRO_VIEWS views)."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "generator", "--root", str(stack.root), "accounts", "create", email,
         "--plan", "pro", "--password-stdin"],
        input=PASSWORD + "\n", capture_output=True, text=True, env=_cli_env(stack.dep), check=False,
    )
    assert out.returncode == 0, out.stderr


def _cli_env(dep: Deployment) -> dict[str, str]:
    import os

    from fixtures.deploy.nginx import REPO

    return {**os.environ, **dep.env, "PYTHONPATH": str(REPO)}


@dataclass
class Outcome:
    kind: str  # "unlock" or "session"
    code: str | None
    started: float
    status: int
    body: dict[str, object]
    retry_after: str | None


async def _load(dep: Deployment, cookie: str, jobs: list[tuple[str, str | None]], kill_after: int,
                victim: int, concurrency: int) -> tuple[list[Outcome], float]:
    """Runs `jobs` with `concurrency` workers; SIGKILLs gate `victim` once `kill_after` have finished."""
    results: list[Outcome] = []
    killed_at = [0.0]
    queue = list(reversed(jobs))
    async with dep.async_client("127.0.0.23", limit=concurrency) as c:
        c.cookies.update(dict(pair.split("=", 1) for pair in cookie.split("; ")))

        async def worker() -> None:
            while queue:
                kind, target = queue.pop()
                started = time.monotonic()
                if kind == "unlock":
                    r = await c.post(f"/gate/unlock/hcpcs/{target}",
                                     headers={"Origin": dep.base, "Sec-Fetch-Site": "same-origin"})
                else:
                    r = await c.get("/gate/session")
                retry_after = r.headers.get("retry-after")
                results.append(Outcome(kind, target, started, r.status_code, r.json(), retry_after))
                if len(results) == kill_after and not killed_at[0]:
                    dep.gates[victim].kill()
                    killed_at[0] = time.monotonic()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results, killed_at[0]


def test_a_gate_killed_mid_load_costs_no_double_charge(stack: Stack) -> None:
    dep = stack.dep
    _create_pro(stack, "pro@example.org")
    with dep.client("127.0.0.23") as c:
        login = post(c, "/gate/login", dep.base, json={"email": "pro@example.org", "password": PASSWORD})
        assert login.status_code == 200, login.text
        cookie = cookie_header(c)
    # 2 × PRO_VIEWS distinct codes, each asked twice (a first view and a re-view), and session reads.
    rng = random.Random(19)
    codes = [code(i) for i in range(200, 200 + 2 * PRO_VIEWS)]
    jobs: list[tuple[str, str | None]] = [("unlock", c) for c in codes * 2] + [("session", None)] * 100
    rng.shuffle(jobs)
    victim = 1
    try:
        results, killed_at = asyncio.run(_load(dep, cookie, jobs, kill_after=len(jobs) // 3, victim=victim,
                                               concurrency=16))
        # With the victim still dead, a second wave a second later: nginx has stopped sending to it,
        # so re-views of granted codes and session reads all succeed (a fast first wave may end earlier).
        time.sleep(max(0.0, killed_at + 1.0 - time.monotonic()))
        seen = [r.code for r in results if r.kind == "unlock" and r.status == 200]
        wave: list[tuple[str, str | None]] = [("unlock", c) for c in seen] + [("session", None)] * 50
        later, _ = asyncio.run(_load(dep, cookie, wave, kill_after=-1, victim=victim, concurrency=16))
    finally:
        dep.gates[victim].kill()
        dep.gates[victim].start()  # the other tests of this module keep three gates
    assert killed_at and len(results) == len(jobs)
    failed = [r for r in results if r.status not in (200, 402)]
    # Reads are idempotent: nginx retried them on another gate. Only POSTs that had reached the
    # killed gate fail, with the JSON 503 + Retry-After of the example, never a hang or an HTML page.
    assert all(r.kind == "unlock" for r in failed), failed
    assert all(r.status == 503 and r.body.get("error") == "unavailable" for r in failed), failed
    assert all(r.retry_after for r in failed), failed
    assert len(failed) <= 16  # at most the requests in flight at the kill
    assert len(later) == len(wave)
    assert [r for r in later if r.status != 200] == []
    # The client retries what failed: a view charged by the dead gate is not charged again.
    granted = {r.code for r in results if r.kind == "unlock" and r.status == 200}
    with dep.client("127.0.0.23") as c:
        c.cookies.update(dict(pair.split("=", 1) for pair in cookie.split("; ")))
        for r in failed:
            retry = post(c, f"/gate/unlock/hcpcs/{r.code}", dep.base)
            assert retry.status_code in (200, 402)
            if retry.status_code == 200:
                granted.add(r.code)
        state = c.get("/gate/session").json()
    assert state["views_used"] == len(granted) == PRO_VIEWS
    assert {u["code"] for u in state["unlocked"]} == granted
    stack.within_budget()
