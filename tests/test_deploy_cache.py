"""A cache in front can never leak: a caching proxy with aggressive settings (stack.CDN_CONF: it caches
every status and POSTs, keys ignore cookies, responses that set cookies are cached and replayed) in
front of deploy/nginx.conf.example and a production gate. Member A (paid), member B (free, views
spent elsewhere) and an anonymous visitor (guest view spent elsewhere) interleave 1,000 requests on
the same URLs: nothing of A's reaches B or the visitor."""
from __future__ import annotations

import asyncio
import os
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fixtures.deploy.nginx import REPO
from fixtures.deploy.sample import code, marker, metered_site
from fixtures.deploy.stack import Deployment, deployment

pytestmark = pytest.mark.slow

PASSWORD = "a long enough passphrase"
SHARED = [code(i) for i in range(6)]  # the codes all three ask for; only A may see their sections
REQUESTS = 1000
GUEST_IP_CAP = 20  # the product default (site.yml meter.guest_ip_cap)


@pytest.fixture(scope="module")
def cdn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    work = tmp_path_factory.mktemp("deploy-cache")
    root = metered_site(work / "proj", 14)
    with deployment(root, work, gates=1, cdn=True) as running:
        out = subprocess.run(
            [sys.executable, "-m", "generator", "--root", str(root), "accounts", "create", "a@example.org",
             "--plan", "paid", "--password-stdin"],
            input=PASSWORD + "\n", capture_output=True, text=True, check=False,
            env={**os.environ, **running.env, "PYTHONPATH": str(REPO)},
        )
        assert out.returncode == 0, out.stderr
        yield running


@dataclass
class Seen:
    who: str
    method: str
    path: str
    status: int
    headers: httpx.Headers
    body: str


def _requests(who: str, css: str) -> list[tuple[str, str, dict[str, str] | None]]:
    email = {"a": "a@example.org", "b": "b@example.org", "anon": "anon@example.org"}[who]
    password = PASSWORD if who != "anon" else "not the password at all"
    mix: list[tuple[str, str, dict[str, str] | None]] = [
        ("GET", css, None), ("GET", "/lookup/index.json", None), ("GET", "/gate/session", None),
        ("GET", "/gate/account", None), ("POST", "/gate/login", {"email": email, "password": password}),
    ]
    for c in SHARED:
        mix += [("GET", f"/hcpcs/{c}/", None), ("POST", f"/gate/unlock/hcpcs/{c}", None),
                ("GET", f"/gate/page/hcpcs/{c}/", None)]
    return mix


async def _run(cdn: Deployment, clients: dict[str, httpx.AsyncClient], plan: list[tuple[str, int]],
               mixes: dict[str, list[tuple[str, str, dict[str, str] | None]]]) -> list[Seen]:
    seen: list[Seen] = []
    todo = list(reversed(plan))

    async def worker() -> None:
        while todo:
            who, pick = todo.pop()
            method, path, body = mixes[who][pick]
            headers = {"Origin": cdn.base, "Sec-Fetch-Site": "same-origin"} if method == "POST" else {}
            r = await clients[who].request(method, path, json=body, headers=headers)
            seen.append(Seen(who, method, path, r.status_code, r.headers, r.text))

    await asyncio.gather(*(worker() for _ in range(6)))
    return seen


def test_a_cache_in_front_never_leaks_a_members_answers(cdn: Deployment) -> None:
    async def scenario() -> tuple[list[Seen], set[str]]:
        clients = {who: cdn.async_client(ip, limit=4) for who, ip in
                   (("a", "127.0.0.51"), ("b", "127.0.0.52"), ("anon", "127.0.0.53"))}
        try:
            page = await clients["anon"].get(f"/hcpcs/{SHARED[0]}/")
            css = re.search(r'href="(/assets/[^"]+\.css)"', page.text)
            assert css is not None
            origin = {"Origin": cdn.base}
            a_login = await clients["a"].post(
                "/gate/login", json={"email": "a@example.org", "password": PASSWORD}, headers=origin
            )
            assert a_login.status_code == 200
            reg = await clients["b"].post(
                "/gate/register", json={"email": "b@example.org", "password": PASSWORD}, headers=origin
            )
            assert reg.status_code == 201
            for i in range(6, 12):  # B spends every view on codes outside SHARED
                r = await clients["b"].post(f"/gate/unlock/hcpcs/{code(i)}", headers=origin)
                assert r.status_code == 200
            r = await clients["anon"].post(f"/gate/unlock/hcpcs/{code(12)}", headers=origin)
            assert r.status_code == 200  # the visitor's one guest view, outside SHARED
            # A login ends the session it replaces, so a request racing B's own login arrives as a
            # new guest, who may have a view. No guest views are left at B's and the visitor's
            # addresses (the per-IP cap, 20): any premium text reaching them came from A.
            for ip, spent in (("127.0.0.52", 0), ("127.0.0.53", 1)):
                for _ in range(GUEST_IP_CAP - spent):
                    async with cdn.async_client(ip) as guest:
                        r = await guest.post(f"/gate/unlock/hcpcs/{code(13)}", headers=origin)
                        assert r.status_code == 200
            mixes = {who: _requests(who, css.group(1)) for who in clients}
            rng = random.Random(19)
            plan = [(who, rng.randrange(len(mixes[who]))) for who in rng.choices(list(clients), k=REQUESTS)]
            seen = await _run(cdn, clients, plan, mixes)
            a_cookies = set(a_login.headers.get_list("set-cookie"))
            return seen, a_cookies
        finally:
            for c in clients.values():
                await c.aclose()

    seen, a_cookies = asyncio.run(scenario())
    assert len(seen) == REQUESTS
    a_cookies |= {v for s in seen if s.who == "a" for v in s.headers.get_list("set-cookie")}
    a_values = {v.split(";", 1)[0].split("=", 1)[1] for v in a_cookies}
    assert a_values and all(len(v) > 20 for v in a_values)
    markers = [marker(c) for c in SHARED]
    # A does see its sections (so a leak would be visible), through answers the cache must not keep.
    assert sum(1 for s in seen if s.who == "a" and any(m in s.body for m in markers)) > 20
    others = [s for s in seen if s.who != "a"]
    for s in others:
        text = s.body + "\n" + "\n".join(f"{k}: {v}" for k, v in s.headers.multi_items())
        assert not any(m in s.body for m in markers), f"A's section reached {s.who}: {s.method} {s.path}"
        assert not any(v in text for v in a_values), f"A's cookie reached {s.who}: {s.method} {s.path}"
        assert "a@example.org" not in s.body, f"A's email reached {s.who}: {s.method} {s.path}"
    gate = [s for s in seen if s.path.startswith("/gate/")]
    static = [s for s in seen if not s.path.startswith("/gate/")]
    assert gate and static
    for s in gate:
        assert s.headers.get("cache-control") == "no-store, private", (s.path, s.status)
        vary = {token.strip().lower() for token in s.headers.get("vary", "").split(",")}
        assert "cookie" in vary, (s.path, s.status)
        assert s.headers.get("x-cdn-cache") not in ("HIT", "STALE", "UPDATING", "REVALIDATED")
    for s in static:
        assert s.status == 200 and "set-cookie" not in s.headers, s.path
    hits = sum(1 for s in static if s.headers.get("x-cdn-cache") == "HIT")
    assert hits > len(static) // 2  # the cache is really there: the pages came from it
    b_sessions = [s for s in seen if s.who == "b" and s.path == "/gate/session"]
    assert any("b@example.org" in s.body for s in b_sessions)  # B was a member, not only a guest


GATE_PAGES = ["/plans/", "/consult/", "/account/consult/"]  # rendered by the gate outside /gate/


def test_pages_the_gate_renders_are_never_cached_or_shared(cdn: Deployment) -> None:
    """The gate's own pages outside /gate/ (plans, CaseConsultant) depend on who asks: a member's
    version must not be kept by the cache and handed to the next visitor."""
    with cdn.client("127.0.0.54") as member, cdn.client("127.0.0.55") as visitor:
        login = member.post("/gate/login", json={"email": "a@example.org", "password": PASSWORD},
                            headers={"Origin": cdn.base})
        assert login.status_code == 200
        for path in GATE_PAGES:
            mine = member.get(path)
            theirs = visitor.get(path)
            assert mine.status_code == 200, path
            for r in (mine, theirs):
                vary = {token.strip().lower() for token in r.headers.get("vary", "").split(",")}
                assert r.headers.get("cache-control") == "no-store, private", (path, r.headers)
                assert "cookie" in vary, (path, r.headers)
            assert theirs.headers.get("x-cdn-cache") != "HIT", path  # the visitor got the member's copy
