"""Hostile and broken input: nested JSON, slow bodies, parser messages, lockout rules, file modes."""
from __future__ import annotations

import asyncio
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.gate.sitekit import app_clients, build_site, env_for, uvicorn_server

PASSWORD = "a long enough passphrase"
Factory = Callable[..., Any]


@pytest.fixture()
def make(tmp_path: Path) -> Iterator[Factory]:
    with app_clients(build_site(tmp_path)) as factory:
        yield factory


@pytest.mark.parametrize("path", ["/gate/login", "/gate/register", "/gate/logout", "/gate/password"])
def test_deeply_nested_json_is_400(make: Factory, path: str) -> None:
    c = make()
    for depth in (100_000, 1_000_000):
        r = c.post(path, content=b"[" * depth + b"]" * depth, headers={"Content-Type": "application/json"})
        assert r.status_code in (400, 401, 413), r.status_code  # 413: a body over the size limit
        assert r.headers["content-type"] == "application/json"
    nested = b'{"email": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    r = c.post(path, content=nested, headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 401) and r.json()["error"] in ("bad_request", "login_required")


def test_json_errors_do_not_echo_parser_internals(make: Factory) -> None:
    r = make().post("/gate/login", content=b'{"email": "a@b.org", "password": "x',
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["message"] == "The request body is not valid JSON."
    assert "char" not in r.text and "line" not in r.text


def test_owner_gets_in_from_another_client_after_a_flood(make: Factory) -> None:
    c = make(CODEREF_TRUST_PROXY="1", CODEREF_LOGIN_FAILURES_PER_CLIENT="3",
             CODEREF_LOGIN_FAILURES_PER_ACCOUNT="100")
    r = c.post("/gate/register", json={"email": "own@example.org", "password": PASSWORD})
    assert r.status_code == 201
    attacker = {"X-Forwarded-For": "203.0.113.5"}
    statuses = [c.post("/gate/login", json={"email": "own@example.org", "password": f"guess {i}"},
                       headers=attacker).status_code for i in range(6)]
    assert statuses == [401, 401, 401, 429, 429, 429]
    limited = c.post("/gate/login", json={"email": "own@example.org", "password": PASSWORD}, headers=attacker)
    assert limited.status_code == 429
    assert limited.json()["message"].startswith("Too many failed logins for this account from your network.")
    assert "Try again in" in limited.json()["message"] and int(limited.headers["retry-after"]) > 3000
    owner = c.post("/gate/login", json={"email": "own@example.org", "password": PASSWORD},
                   headers={"X-Forwarded-For": "198.51.100.2"})
    assert owner.status_code == 200  # before: 429 for an hour, whoever asked


def test_many_clients_space_out_an_account_instead_of_locking_it(make: Factory) -> None:
    c = make(CODEREF_TRUST_PROXY="1", CODEREF_LOGIN_FAILURES_PER_ACCOUNT="3")
    assert c.post("/gate/register", json={"email": "sp@example.org", "password": PASSWORD}).status_code == 201
    for i in range(3):
        r = c.post("/gate/login", json={"email": "sp@example.org", "password": "wrong guess"},
                   headers={"X-Forwarded-For": f"203.0.113.{i}"})
        assert r.status_code == 401
    owner = {"X-Forwarded-For": "198.51.100.9"}
    waiting = c.post("/gate/login", json={"email": "sp@example.org", "password": PASSWORD}, headers=owner)
    assert waiting.status_code == 429
    wait = int(waiting.headers["retry-after"])
    assert 1 <= wait <= 2 and "attempts are spaced out" in waiting.json()["message"]
    time.sleep(wait + 0.1)
    r = c.post("/gate/login", json={"email": "sp@example.org", "password": PASSWORD}, headers=owner)
    assert r.status_code == 200


def test_change_password_counts_attempts_before_the_hash(make: Factory) -> None:
    c = make(CODEREF_LOGIN_FAILURES_PER_CLIENT="2")
    c.post("/gate/register", json={"email": "cp@example.org", "password": PASSWORD})
    wrong = {"current_password": "wrong one!", "new_password": "whatever new pass"}
    got = [c.post("/gate/password", json=wrong).status_code for _ in range(3)]
    assert got == [401, 401, 429]


def test_gate_database_files_are_private(make: Factory, tmp_path: Path) -> None:
    c = make()
    assert c.post("/gate/register", json={"email": "m@example.org", "password": PASSWORD}).status_code == 201
    var = tmp_path / "var"
    files = [var / "gate.sqlite", var / "gate.sqlite-wal", var / "gate.sqlite-shm"]
    for f in files:
        assert f.exists() and stat.S_IMODE(os.stat(f).st_mode) == 0o600, (f, oct(os.stat(f).st_mode))


def test_a_body_that_never_arrives_is_cut_off(tmp_path: Path) -> None:
    root = build_site(tmp_path)

    async def slow(base: str) -> tuple[bytes, float]:
        host, port = base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"POST /gate/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 200\r\n\r\n{\"email\": ")
        await writer.drain()
        t = time.perf_counter()
        data = await asyncio.wait_for(reader.read(4096), 20)
        took = time.perf_counter() - t
        writer.close()
        return data, took

    with uvicorn_server(root, env_for(root, None, CODEREF_BODY_TIMEOUT="2"), module="generator") as base:
        data, took = asyncio.run(slow(base))
    assert data.startswith(b"HTTP/1.1 408"), data[:100]
    assert 1.5 < took < 6
