"""Request bodies (JSON or HTML forms, bounded), safe `next` paths, and error answers."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import anyio
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

if TYPE_CHECKING:
    from .context import Context

RETRY_AFTER = 2  # seconds a client should wait after a 503

MESSAGES: dict[str, tuple[int, str]] = {
    "email_taken": (409, "An account with this email already exists. Log in instead."),
    "weak_password": (400, "This password is too common. Choose another one."),
    "password_too_short": (400, "Use a password of at least 8 characters."),
    "password_too_long": (400, "Use a password of at most 1024 bytes."),
    "invalid_email": (400, "Enter a valid email address, such as name@example.com."),
    "bad_credentials": (401, "Wrong email or password."),
    "rate_limited": (429, "Too many attempts. Wait a while and try again."),
    "login_required": (401, "Log in first."),
    "cross_site": (403, "Refused: this request came from another site."),
    "bad_request": (400, "The request could not be read."),
    "payload_too_large": (413, "The request body is too large."),
    "unsupported_media_type": (
        415, "Send JSON (application/json) or an HTML form (application/x-www-form-urlencoded)."
    ),
    "unknown_codeset": (404, "There is no such code set."),
    "unknown_code": (404, "There is no such code."),
    "not_found": (404, "Not found."),
    "method_not_allowed": (405, "Method not allowed."),
    "unavailable": (503, "The service is temporarily unavailable. Try again shortly."),
    "request_timeout": (408, "The request body did not arrive in time."),
}


class BadInput(Exception):
    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        self.message = message or MESSAGES[code][1]
        super().__init__(self.message)


def error(code: str, message: str | None = None, status: int | None = None, *,
          retry_after: int | None = None, **extra: Any) -> JSONResponse:
    """The JSON error answer; a 503 always says when to come back (Retry-After)."""
    default_status, default_message = MESSAGES.get(code, (400, code))
    status = status or default_status
    if status == 503 and retry_after is None:
        retry_after = RETRY_AFTER
    body = {"error": code, "message": message or default_message, **extra}
    headers = None
    if retry_after is not None:
        body["retry_after"] = retry_after
        headers = {"Retry-After": str(retry_after)}
    return JSONResponse(body, status_code=status, headers=headers)


async def _body(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BadInput("payload_too_large")
            chunks.append(chunk)
    except ClientDisconnect:
        # The client went away before its body was whole (e.g. a Content-Length larger than what it sent):
        # a 4xx nobody reads, never an "Exception in ASGI application" 500 in the server log.
        raise BadInput("bad_request", "The request body ended before its declared length.") from None
    return b"".join(chunks)


async def read_fields(request: Request, ctx: Context, limit: int, timeout: float) -> dict[str, str]:
    """Text fields of a JSON object or urlencoded form body of at most `limit` bytes, received
    within `timeout` seconds."""
    declared = ctx.content_length
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BadInput("payload_too_large" if declared.isdigit() else "bad_request")
    try:
        with anyio.fail_after(timeout):
            body = await _body(request, limit)
    except TimeoutError:
        raise BadInput("request_timeout") from None
    if not body.strip():
        return {}
    ctype = ctx.content_type
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("bad_request", "The request body is not valid UTF-8.") from None
    if ctype == "application/json" or ctype.endswith("+json"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nested thousands of levels deep
            raise BadInput("bad_request", "The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise BadInput("bad_request", "Send a JSON object, e.g. {\"email\": …, \"password\": …}.")
        bad = [k for k, v in data.items() if not isinstance(v, str)]
        if bad:
            raise BadInput("bad_request", f"JSON field '{bad[0][:40]}' must be a string.")
        return data
    if ctype == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=50)
        except (ValueError, UnicodeDecodeError):
            raise BadInput("bad_request", "The form data could not be read.") from None
        return dict(pairs)
    raise BadInput("unsupported_media_type")


def safe_next(raw: str | None, default: str = "/") -> str:
    """A same-origin path to go back to; anything else (other hosts, schemes, odd bytes) gives `default`."""
    if not raw or len(raw) > 2000 or not raw.startswith("/") or raw.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 0x21 or c in "\\\x7f" for c in raw):
        return default
    return raw


def back_with_error(form_page: str, code: str, next_path: str) -> RedirectResponse:
    return RedirectResponse(f"{form_page}?{urlencode({'error': code, 'next': next_path})}", status_code=303)


def fail(form: bool, form_page: str, code: str, next_path: str) -> Response:
    """The error answer in the caller's language: a 303 back to the form page, or JSON."""
    return back_with_error(form_page, code, next_path) if form else error(code)
