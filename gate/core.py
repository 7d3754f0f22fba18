"""The gate's shared state (settings, database, store, signer) and who the current visitor is."""
from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from starlette.requests import Request, cookie_parser
from starlette.responses import Response

from generator.model import CODESET_NAMES
from generator.store import StoredSection, StoreReader

from . import allowance, passwords, sessions
from .db import Database, Unavailable
from .security import client_ip, is_https
from .sessions import Account, CookieSigner
from .settings import Settings
from .web import BadInput

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,39}$")
GUEST_COOKIE_AGE = 400 * 86400  # browsers cap cookie lifetimes at 400 days
UNVERIFIED = "unverified"


@dataclass(slots=True)
class Visitor:
    account: Account | None
    session_id: str | None
    _guest_cookie: str | None = None
    _signer: CookieSigner | None = None

    @property
    def guest_id(self) -> str | None:
        """The guest id of a valid guest cookie, also when logged in (for carry-over); checked lazily."""
        return self._signer.guest_id(self._guest_cookie) if self._signer else None

    @property
    def plan(self) -> str:
        return self.account.plan if self.account else "guest"

    @property
    def subject(self) -> str | None:
        if self.account:
            return self.account.subject
        gid = self.guest_id
        return f"g:{gid}" if gid else None


class Gate:
    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = root
        self.settings = settings
        self.site = settings.site
        url = settings.database_url
        self.db = Database(str(url) if url is not None else None, settings.sqlite_path)
        self.store = StoreReader(settings.site.store_path)
        self.signer = CookieSigner(settings.keys)
        self._period_at = -1
        self._period = allowance.period_for(self.site.meter.period)
        self._cookie_headers: dict[tuple[bool, str], tuple[str | None, str | None]] = {}
        self.hasher: PasswordHasher = passwords.hasher(
            settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
        )

    # -- the meter's numbers -------------------------------------------------------------------
    def allowance_for(self, plan: str) -> int | None:
        plans = self.site.meter.plans
        if plan == UNVERIFIED:  # a free account before its address is confirmed: a guest's views
            return plans.get("guest", 0)
        return plans[plan] if plan in plans else plans.get("free", 0)

    def plan_of(self, account: Account) -> str:
        """The plan the meter counts by: 'unverified' for a free account whose address is not
        confirmed yet, when site.yml asks for verified addresses (meter.require_verified_email)."""
        if account.plan == "free" and not account.verified and self.site.meter.require_verified_email:
            return UNVERIFIED
        return account.plan

    def period(self) -> allowance.Period:
        now = int(time.time())
        if now != self._period_at:  # periods move in whole seconds: compute once a second
            self._period = allowance.period_for(self.site.meter.period, now)
            self._period_at = now
        return self._period

    def ip(self, request: Request) -> str:
        return client_ip(request, self.settings.trust_proxy)

    # -- cookies -------------------------------------------------------------------------------
    def secure(self, request: Request) -> bool:
        return self.secure_for(is_https(request, self.settings.trust_proxy))

    def secure_for(self, https: bool) -> bool:
        """Whether cookies get Secure and the __Host- prefix, for a request that came over `https`."""
        mode = self.settings.cookie_secure
        return mode == "true" or (mode == "auto" and https)

    def set_session(self, request: Request, response: Response, sid: str) -> None:
        name = sessions.cookie_names(self.secure(request))[0]
        response.set_cookie(
            name, self.signer.sign_session(sid), max_age=self.settings.session_max_age, path="/",
            secure=self.secure(request), httponly=True, samesite="lax",
        )

    def set_guest(self, request: Request, response: Response, gid: str) -> None:
        name = sessions.cookie_names(self.secure(request))[1]
        response.set_cookie(
            name, self.signer.sign_guest(gid), max_age=GUEST_COOKIE_AGE, path="/",
            secure=self.secure(request), httponly=True, samesite="lax",
        )

    def clear_session(self, request: Request, response: Response) -> None:
        secure = self.secure(request)
        response.delete_cookie(
            sessions.cookie_names(secure)[0], path="/", secure=secure, httponly=True, samesite="lax"
        )

    # -- the visitor ---------------------------------------------------------------------------
    _COOKIE_HEADERS_MAX = 50_000
    _COOKIE_HEADER_CACHED_LEN = 1024  # at most 50 MB of remembered headers

    def cookie_ids(self, header: str | None, secure: bool) -> tuple[str | None, str | None]:
        """(verified session id or None, raw guest cookie or None) from a Cookie header.

        A browser repeats the same header on every request, so the parsed and verified answer is
        remembered per header (bounded); whether the session is still live is always asked of the
        database.
        """
        if not header:
            return None, None
        key = (secure, header)
        hit = self._cookie_headers.get(key)
        if hit is None:
            session_name, guest_name = sessions.cookie_names(secure)
            cookies = cookie_parser(header)
            hit = (self.signer.session_id(cookies.get(session_name)), cookies.get(guest_name))
            # Bounded memory: long headers are parsed each time.
            if len(header) <= self._COOKIE_HEADER_CACHED_LEN:
                if len(self._cookie_headers) >= self._COOKIE_HEADERS_MAX:
                    self._cookie_headers.clear()
                self._cookie_headers[key] = hit
        return hit

    def cookies(self, request: Request) -> tuple[str | None, str | None]:
        return self.cookie_ids("; ".join(request.headers.getlist("cookie")), self.secure(request))

    async def visitor(self, request: Request) -> Visitor:
        """Who is asking: a tampered, expired or unknown cookie simply means a guest."""
        sid, guest_cookie = self.cookies(request)
        account = None
        if sid is not None:
            s = self.settings
            account = await self.db.run(
                sessions.load, sid, int(time.time()), s.session_idle, s.session_max_age
            )
        return Visitor(account, sid if account else None, guest_cookie, self.signer)

    # -- the protected store -------------------------------------------------------------------
    @contextlib.contextmanager
    def _reading_store(self) -> Iterator[None]:
        try:
            yield
        except (OSError, sqlite3.Error) as exc:
            raise Unavailable(f"protected store {self.site.store_path}: {exc}") from exc

    def code_json(self, codeset: str, code: str) -> bytes:
        """The code's protected sections as a JSON array; BadInput for unknown code sets or codes
        (codes without a page)."""
        if codeset not in CODESET_NAMES or codeset not in self.site.codesets:
            raise BadInput("unknown_codeset", f"There is no code set '{codeset[:40]}'.")
        if not CODE_RE.match(code):
            raise BadInput("unknown_code", f"There is no code '{code[:40]}' in {CODESET_NAMES[codeset]}.")
        with self._reading_store():
            data = self.store.lookup_json(codeset, code)
        if data is None:
            raise BadInput("unknown_code", f"There is no code '{code}' in {CODESET_NAMES[codeset]}.")
        return data

    def sections(self, codeset: str, code: str) -> list[StoredSection]:
        with self._reading_store():
            return self.store.sections(codeset, code)

    def site_dir(self) -> Path:
        """The built site, resolved now: builds swap a symlink atomically."""
        return Path(os.path.realpath(self.site.output_dir))

    def close(self) -> None:
        self.db.close()
        self.store.close()
