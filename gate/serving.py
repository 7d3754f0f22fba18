"""The HTTP server's transport: one `send()` per response instead of one per ASGI message.

uvicorn writes a response's status line and headers when the app sends `http.response.start`
and the body when it sends `http.response.body`: two system calls, two TCP segments and, on
loopback or a proxy's keep-alive connection, two wake-ups of the reader for a few hundred bytes
of JSON. Under load that is a quarter of the gate's time per unlock. `CoalescingHttpToolsProtocol`
hands uvicorn a transport that gathers what one event-loop turn writes and passes it on in one
write when the turn's ready callbacks have run; everything else goes to the real transport.
"""
from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Gathered bytes past which a write goes out at once: responses of the gate are a few KB; a
# large body (a static page, an NCCI list) gains nothing from waiting for the end of the turn.
FLUSH_AT = 64 * 1024


LINGER = 5.0  # seconds a half-closed connection may take to send its unread input and close


class _Lingering(asyncio.Protocol):
    """Reads and drops what a half-closed connection still sends, then closes it; the server's
    protocol still hears of the end (uvicorn counts its connections by it)."""

    def __init__(self, transport: asyncio.Transport, server: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._server = server
        self._timer = loop.call_later(LINGER, transport.close)

    def data_received(self, data: bytes) -> None:
        pass  # the rest of a request nobody reads any more

    def eof_received(self) -> bool:
        return False  # the client closed its side: close ours

    def connection_lost(self, exc: Exception | None) -> None:
        self._timer.cancel()
        if self._server is not None:
            self._server.connection_lost(exc)


class CoalescingTransport:
    """Wraps an asyncio transport: writes of one loop turn leave as one write, in order."""

    __slots__ = ("_closed", "_loop", "_pending", "_scheduled", "_size", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._size = 0
        self._scheduled = False
        self._closed = False

    def is_closing(self) -> bool:
        return self._closed or self._transport.is_closing()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        self._pending.append(bytes(data))
        self._size += len(data)
        if self._size >= FLUSH_AT:  # a large body: no gathering, and uvicorn's flow control sees it now
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self.flush)

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        """Hands what is gathered to the real transport (dropped if the connection is gone)."""
        self._scheduled = False
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        self._size = 0
        if not self.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        """Closes after everything written is sent, without a reset.

        A request body still unread when the server closes (a client that sent `Connection:
        close` and its body in a later packet, answered before the body was read) makes the
        kernel answer the close with a reset, which drops the unsent rest of a large answer. So
        the write side is shut (FIN after the queued data) and the input read and dropped
        until the client closes too, or LINGER seconds pass, as web servers' lingering close does.
        """
        self.flush()
        transport = self._transport
        if self._closed or transport.is_closing() or not transport.can_write_eof():
            transport.close()  # a second close (server shutdown) ends the lingering at once
            return
        self._closed = True
        transport.write_eof()
        transport.set_protocol(_Lingering(transport, transport.get_protocol(), self._loop))

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._pending.clear()
        self._size = 0
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + self._size

    def __getattr__(self, name: str) -> Any:  # everything else: the real transport
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol writing through a `CoalescingTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, asyncio.get_running_loop()))  # type: ignore[arg-type]
