"""The server's coalescing transport: real TCP connections, and the real `coderef serve` over raw sockets."""
from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine
from pathlib import Path

import uvloop
from fixtures.gate.sitekit import build_site, env_for, secret_of, uvicorn_server

from gate.serving import CoalescingTransport

Script = Callable[[CoalescingTransport, asyncio.Transport], Coroutine[object, object, None]]


def serve_once(script: Script) -> bytes:
    """Runs `script` on the server side of a real loopback TCP connection; returns all the client read."""

    async def main() -> bytes:
        done = asyncio.Event()

        class Server(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                real: asyncio.Transport = transport  # type: ignore[assignment]
                wrapped = CoalescingTransport(real, asyncio.get_running_loop())
                task = asyncio.get_running_loop().create_task(script(wrapped, real))
                task.add_done_callback(lambda _: done.set())

        server = await asyncio.get_running_loop().create_server(Server, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await done.wait()
        try:
            data = await asyncio.wait_for(reader.read(), 5)  # until the server closes
        except ConnectionResetError:
            data = b"<reset>"
        writer.close()
        server.close()
        return data

    return uvloop.run(main())  # the loop `coderef serve` runs on


def test_writes_of_one_turn_and_of_later_turns_arrive_whole_and_in_order() -> None:
    async def script(t: CoalescingTransport, real: asyncio.Transport) -> None:
        t.write(b"HTTP/1.1 200 OK\r\n")
        t.write(bytearray(b"content-length: 4\r\n\r\n"))
        t.write(b"")
        assert t.get_write_buffer_size() >= 38  # gathered, not yet handed to the socket
        await asyncio.sleep(0.01)
        assert t.get_write_buffer_size() == 0  # the turn ended: one write went out
        t.writelines([b"bo", memoryview(b"dy")])
        await asyncio.sleep(0)
        t.close()

    assert serve_once(script) == b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nbody"


def test_close_sends_what_is_gathered_first() -> None:
    async def script(t: CoalescingTransport, real: asyncio.Transport) -> None:
        t.write(b"last words")
        t.close()
        assert t.is_closing()

    assert serve_once(script) == b"last words"


def test_abort_drops_what_is_gathered() -> None:
    async def script(t: CoalescingTransport, real: asyncio.Transport) -> None:
        t.write(b"never sent")
        t.abort()

    assert serve_once(script) in (b"", b"<reset>")


def test_data_gathered_for_a_closed_connection_is_dropped_quietly() -> None:
    errors: list[dict[str, object]] = []

    async def script(t: CoalescingTransport, real: asyncio.Transport) -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: errors.append(ctx))
        real.close()  # the connection goes away under the wrapper (as when the peer resets)
        await asyncio.sleep(0.01)
        t.write(b"late")  # e.g. a response finished after the disconnect
        await asyncio.sleep(0.01)  # the gathered write is dropped, not raised in the loop

    assert serve_once(script) in (b"", b"<reset>")
    assert errors == []


def _read_responses(sock: socket.socket, count: int) -> list[tuple[str, bytes]]:
    """Reads `count` HTTP/1.1 responses with Content-Length bodies: (status line, body) each."""
    buf = b""
    out: list[tuple[str, bytes]] = []
    while len(out) < count:
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {len(out)} responses"
            buf += chunk
        head, _, buf = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = next(
            int(v) for k, _, v in (ln.partition(":") for ln in lines[1:]) if k.lower() == "content-length"
        )
        while len(buf) < length:
            buf += sock.recv(65536)
        out.append((lines[0], buf[:length]))
        buf = buf[length:]
    return out


def test_served_responses_on_one_connection_stay_whole_and_in_order(tmp_path: Path) -> None:
    """Keep-alive and pipelined requests through `coderef serve`: static pages, unlocks, errors."""
    root = build_site(tmp_path)
    with uvicorn_server(root, env_for(root)) as base:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            requests = [
                b"GET /cpt/27252/ HTTP/1.1\r\nHost: x\r\n\r\n",
                b"POST /gate/unlock/cpt/27252 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                b"POST /gate/unlock/cpt/NOPE1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                b"GET /no/such/page/ HTTP/1.1\r\nHost: x\r\n\r\n",
            ]
            sock.sendall(requests[0])
            first = _read_responses(sock, 1)
            sock.sendall(b"".join(requests[1:]))  # pipelined: three requests in one segment
            rest = _read_responses(sock, 3)
    statuses = [status for status, _ in first + rest]
    assert statuses == [
        "HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found", "HTTP/1.1 404 Not Found",
    ]
    assert b'data-code="27252"' in first[0][1]
    assert secret_of("cpt", "27252").encode() in rest[0][1]
    assert b"NOPE1" in rest[1][1]
    assert b"No such page" in rest[2][1]


def test_a_large_body_goes_out_at_once() -> None:
    from gate.serving import FLUSH_AT

    async def script(t: CoalescingTransport, real: asyncio.Transport) -> None:
        t.write(b"HTTP/1.1 200 OK\r\n\r\n")
        assert t.get_write_buffer_size() > real.get_write_buffer_size()  # small: gathered
        t.write(b"x" * FLUSH_AT)
        assert t.get_write_buffer_size() == real.get_write_buffer_size()  # large: handed on now
        t.close()

    assert serve_once(script) == b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * FLUSH_AT


def _big_site(tmp_path: Path) -> Path:
    """A site whose one code has a 500 KB protected section (as CPT 64480's NCCI list is)."""
    from generator.store import StoreWriter

    root = build_site(tmp_path)
    rows = "".join(f"<tr><td>6448{i % 10}</td><td>edit {i:06d}: column two code, modifier 1</td></tr>"
                   for i in range(8000))
    writer = StoreWriter(root / "var" / "protected.sqlite", fresh=False)
    writer.replace_code("cpt", "27253", "Big", [("ncci", "NCCI", f"<table>{rows}</table>")])
    writer.commit()
    return root


def test_a_large_answer_arrives_whole_when_the_body_comes_late_and_the_client_closes(tmp_path: Path) -> None:
    """`Connection: close` and the request body in a second packet: the server must not reset
    the connection (unread input at close turns FIN into RST and drops what is unsent)."""
    root = _big_site(tmp_path)
    with uvicorn_server(root, env_for(root)) as base:
        host, port = base.removeprefix("http://").split(":")
        cookie = ""
        for attempt in range(3):
            with socket.create_connection((host, int(port)), timeout=20) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)  # a slow reader
                sock.sendall(b"POST /gate/unlock/cpt/27253 HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Type: application/json\r\n"
                             b"Content-Length: 2\r\nConnection: close\r\n" + cookie.encode() + b"\r\n")
                import time
                time.sleep(0.05)
                sock.sendall(b"{}")  # the body, in a packet of its own
                time.sleep(0.3)  # the answer is written and the connection closed meanwhile
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head[:200]
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            assert length > 500_000 and len(body) == length, (attempt, len(body), length)
            if not cookie:
                set_cookie = next(ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"set-cookie:"))
                cookie = "Cookie: " + set_cookie.split(b":", 1)[1].split(b";")[0].strip().decode() + "\r\n"
        # Three whole answers, one view: the first unlock was the only one charged.
        import httpx
        state = httpx.get(base + "/gate/session", headers={"Cookie": cookie[8:].strip()}).json()
        assert state["views_used"] == 1
