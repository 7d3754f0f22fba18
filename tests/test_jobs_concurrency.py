"""Job posts are counted against the daily limits atomically: hundreds of parallel posts of one account,
over two gate processes sharing one database (SQLite, PostgreSQL), never pass the limit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from fixtures.gate.sitekit import build_site, env_for, pg_schema, uvicorn_server
from test_jobs_gate import FORM, PASSWORD

PER_ACCOUNT = 7
BURST = 300


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def servers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    root = build_site(tmp_path)
    with ExitStack() as stack:
        url = None if request.param == "sqlite" else stack.enter_context(pg_schema())
        env = env_for(
            root, url, CODEREF_JOB_POSTS_PER_ACCOUNT=str(PER_ACCOUNT), CODEREF_JOB_POSTS_PER_IP="100000"
        )
        yield [stack.enter_context(uvicorn_server(root, env)) for _ in range(2)]


async def _post(base: str, cookie: str, body: bytes) -> int:
    u = urlsplit(base)
    reader, writer = await asyncio.open_connection(u.hostname, u.port)
    writer.write(
        f"POST /gate/jobs/post HTTP/1.1\r\nHost: {u.netloc}\r\nCookie: {cookie}\r\n"
        "Accept: application/json\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    return int(data.split(b" ", 2)[1])


def burst(bases: list[str], cookie: str, n: int) -> list[int]:
    body = urlencode(FORM).encode()

    async def go() -> list[int]:
        return list(await asyncio.gather(*(_post(bases[i % len(bases)], cookie, body) for i in range(n))))

    return asyncio.run(go())


@pytest.mark.slow
def test_parallel_posts_never_pass_the_daily_limit(servers: list[str]) -> None:
    a, b = servers
    with httpx.Client(base_url=a) as c:
        assert (
            c.post("/gate/register", json={"email": "burst@example.org", "password": PASSWORD}).status_code
            == 201
        )
        cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
    statuses = burst(servers, cookie, BURST)
    assert statuses.count(201) == PER_ACCOUNT, sorted(set(statuses))
    # The others are refused by the limit; on a loaded machine a few may find the database busy for
    # longer than the gate waits (503 with Retry-After): refused too, never stored.
    assert set(statuses) <= {201, 429, 503}, sorted(set(statuses))
    assert statuses.count(429) >= (BURST - PER_ACCOUNT) * 3 // 4
    with httpx.Client(base_url=b, headers={"cookie": cookie}) as c:
        r = c.post("/gate/jobs/post", data=FORM, headers={"accept": "application/json"})
        assert r.status_code == 429
