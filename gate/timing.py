"""Benchmark mode only (`CODEREF_BENCH`): server-side request times, read at `/__bench/timings`.

A client's latency under load also holds its own scheduling and the queue in front of the worker;
the time from the ASGI call to the last byte of the answer is what the server spends. `make bench`
reads both (bench/assistant.py).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Timings:
    """ASGI middleware: records how long each request to `path` took, in seconds."""

    def __init__(self, app: ASGIApp, path: str, times: list[float]) -> None:
        self.app = app
        self.path = path
        self.times = times

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self.times.append(time.perf_counter() - started)

        await self.app(scope, receive, timed)


def percentiles(times: list[float]) -> dict[str, float]:
    """p50 and p99 in milliseconds (and how many), of the times recorded."""
    ordered = sorted(times)
    if not ordered:
        return {"n": 0, "p50": 0.0, "p99": 0.0}
    return {
        "n": len(ordered),
        "p50": round(ordered[len(ordered) // 2] * 1000, 3),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
    }


def endpoint(times: list[float]) -> Callable[[Request], Awaitable[Response]]:
    """GET /__bench/timings: the percentiles so far; `?reset=1` also starts a new series."""

    async def timings(request: Request) -> Response:
        result = percentiles(times)
        if request.query_params.get("reset"):
            times.clear()
        return JSONResponse(result)

    return timings
