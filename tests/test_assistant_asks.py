"""CasePilot's ask meter: periods, the atomic take, and hundreds of parallel questions on SQLite and on
several gate processes sharing PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from casepilot_kit import assistant_yml, casepilot_small  # noqa: F401 (fixture)
from fixtures.gate.sitekit import env_for, pg_schema, uvicorn_server

from gate.assistant import asks
from gate.db import Database
from generator.config import AskPlan


def test_period_keys() -> None:
    t = 1_764_650_000  # 2025-12-02 (UTC)
    assert asks.period_key("day", t) == "d:2025-12-02"
    assert asks.period_key("month", t) == "m:2025-12"
    assert asks.period_key("lifetime", t) == "all"
    assert asks.period_key("rolling:7", t) == asks.period_key("rolling:7", t + 1)
    assert asks.period_words("day") == "today" and asks.period_words("month") == "this month"


def test_take_counts_to_the_allowance_then_refuses(tmp_path: Path) -> None:
    db = Database(None, tmp_path / "gate.sqlite")
    plan = AskPlan(3, "day")
    got = [db.call(asks.take, "g:x", plan) for _ in range(5)]
    assert [(t.ok, t.left) for t in got] == [(True, 2), (True, 1), (True, 0), (False, 0), (False, 0)]
    assert db.call(asks.left, "g:x", plan) == 0
    db.call(asks.give_back, "g:x", plan)
    assert db.call(asks.left, "g:x", plan) == 1
    assert db.call(asks.take, "g:y", AskPlan(None)).left is None
    assert not db.call(asks.take, "g:z", AskPlan(0, "day")).ok
    db.close()


def test_hundreds_of_threads_on_sqlite_take_exactly_the_allowance(tmp_path: Path) -> None:
    db = Database(None, tmp_path / "gate.sqlite")
    plan = AskPlan(17, "month")
    results: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            ok = db.call(asks.take, "a:1", plan).ok
            with lock:
                results.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 300 and results.count(True) == 17
    db.close()


async def _ask(base: str, cookie: str) -> int:
    u = urlsplit(base)
    reader, writer = await asyncio.open_connection(u.hostname, u.port)
    body = json.dumps({"question": "What is E11.9?"}).encode()
    writer.write(
        f"POST /gate/ask HTTP/1.1\r\nHost: {u.netloc}\r\nCookie: {cookie}\r\nContent-Type: "
        f"application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    return int(data.split(b" ", 2)[1])


def _burst(bases: list[str], n: int, cookie: str, parallel: int) -> list[int]:
    async def go() -> list[int]:
        sem = asyncio.Semaphore(parallel)

        async def one(i: int) -> int:
            async with sem:
                return await _ask(bases[i % len(bases)], cookie)

        return list(await asyncio.gather(*(one(i) for i in range(n))))

    return asyncio.run(go())


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_parallel_questions_through_real_gates(engine: str, casepilot_small: Path, tmp_path: Path) -> None:  # noqa: F811
    root = tmp_path / "proj"
    shutil.copytree(casepilot_small, root, symlinks=True)
    (root / "content" / "site.yml").write_text(
        assistant_yml(
            "guest: {asks: 25, per: day}\n    free: {asks: 20, per: month}\n    paid: {asks: null}", 100_000
        )
    )
    with ExitStack() as stack:
        url = None if engine == "sqlite" else stack.enter_context(pg_schema())
        env = env_for(root, url, CODEREF_ASSISTANT_LLM_URL="")
        bases = [
            stack.enter_context(uvicorn_server(root, env)) for _ in range(1 if engine == "sqlite" else 3)
        ]
        with httpx.Client(base_url=bases[0]) as c:
            first = c.post("/gate/ask", json={"question": "What is E11.9?"})
            assert first.status_code == 200 and first.json()["asks_left"] == 24
            cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
        # The shared PostgreSQL allows each test run 10 connections: 8 questions in flight at once there.
        statuses = _burst(bases, 300, cookie, 100 if engine == "sqlite" else 8)
        assert statuses.count(200) == 24, statuses
        assert statuses.count(402) == 276
        with httpx.Client(base_url=bases[-1], headers={"Cookie": cookie}) as c:
            assert c.get("/gate/asks").json()["asks_left"] == 0
