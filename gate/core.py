"""The gate's shared state (settings, database, protected store, signer) and who the visitor is."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from starlette.requests import cookie_parser
from starlette.responses import Response

from .accounts import passwords, sessions
from .accounts.sessions import Account, CookieSigner
from .context import Context
from .db import Database
from .meter import allowance
from .settings import Settings
from .store import ProtectedStore

GUEST_COOKIE_AGE = 400 * 86400  # browsers cap cookie lifetimes at 400 days
UNVERIFIED = "unverified"


@dataclass(slots=True)
class Visitor:
    """The context's cookies checked against the database: an account (or none) and the guest id."""

    account: Account | None
    session_id: str | None  # only when the session is live
    guest_id: str | None  # the guest id of a valid guest cookie, also when logged in (carry-over)

    @property
    def plan(self) -> str:
        return self.account.plan if self.account else "guest"

    @property
    def subject(self) -> str | None:
        if self.account:
            return self.account.subject
        return f"g:{self.guest_id}" if self.guest_id else None


class Gate:
    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = root
        self.settings = settings
        self.site = settings.site
        url = settings.database_url
        self.db = Database(str(url) if url is not None else None, settings.sqlite_path, settings.pg_pool_size,
                           settings.db_wait)
        self.store = ProtectedStore(settings.site.store_path, settings.site.codesets)
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

    # -- cookies -------------------------------------------------------------------------------
    def secure_for(self, https: bool) -> bool:
        """Whether cookies get Secure and the __Host- prefix, for a request that came over `https`."""
        mode = self.settings.cookie_secure
        return mode == "true" or (mode == "auto" and https)

    def set_session(self, ctx: Context, response: Response, sid: str) -> None:
        name = sessions.cookie_names(ctx.secure)[0]
        response.set_cookie(
            name, self.signer.sign_session(sid), max_age=self.settings.session_max_age, path="/",
            secure=ctx.secure, httponly=True, samesite="lax",
        )

    def set_guest(self, ctx: Context, response: Response, gid: str) -> None:
        name = sessions.cookie_names(ctx.secure)[1]
        response.set_cookie(
            name, self.signer.sign_guest(gid), max_age=GUEST_COOKIE_AGE, path="/",
            secure=ctx.secure, httponly=True, samesite="lax",
        )

    def clear_session(self, ctx: Context, response: Response) -> None:
        name = sessions.cookie_names(ctx.secure)[0]
        response.delete_cookie(name, path="/", secure=ctx.secure, httponly=True, samesite="lax")

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

    # -- the visitor ---------------------------------------------------------------------------
    async def visitor(self, ctx: Context) -> Visitor:
        """Who is asking: a tampered, expired or unknown cookie simply means a guest."""
        account = None
        if ctx.session_id is not None:
            s = self.settings
            account = await self.db.run(
                sessions.load, ctx.session_id, int(time.time()), s.session_idle, s.session_max_age
            )
        return Visitor(account, ctx.session_id if account else None, self.signer.guest_id(ctx.guest_cookie))

    def site_dir(self) -> Path:
        """The built site, resolved now: builds swap a symlink atomically."""
        return Path(os.path.realpath(self.site.output_dir))

    def close(self) -> None:
        self.db.close()
        self.store.close()
