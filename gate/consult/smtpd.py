"""`coderef consult smtpd`: the aiosmtpd server that receives questions and replies.

A message is answered `250` only after it is committed to the gate database; any failure to store
it answers `451`, so the sending server keeps it and tries again (and a resent message, recognised
by its Message-ID, is stored once). Limits: recipients per message (`452`), size (`552`, announced
with SIZE), messages per sender per hour (`450`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from generator.config import SiteConfig

from ..db import Database
from . import addresses, inbound
from .addresses import ReplyTag
from .intake import RATE, Intake, consult_address

log = logging.getLogger("coderef.consult")


class ConsultHandler:
    """aiosmtpd handler: RCPT checks the address, DATA parses, decides and stores (in a thread)."""

    def __init__(
        self,
        db: Database,
        intake: Intake,
        site: SiteConfig,
        keys: list[str],
        stored: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.intake = intake
        self.site = site
        self.keys = keys
        self.address = consult_address(site)
        self.stored = stored

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if addresses.parse(address, self.address, self.keys) is None:
            return "550 5.1.1 No such mailbox here"
        if len(envelope.rcpt_tos) >= self.site.consult.max_recipients:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        mail = inbound.parse(raw, str(envelope.mail_from or ""))
        tag: ReplyTag | None = None
        for rcpt in envelope.rcpt_tos:
            parsed = addresses.parse(rcpt, self.address, self.keys)
            if isinstance(parsed, ReplyTag):
                tag = parsed
                break
        try:
            # The bounded wait of a request (CODEREF_DB_WAIT): past it the sender is told to retry.
            outcome = await asyncio.to_thread(
                self.db.call_waiting, self.db.wait, self.intake.receive, mail, tag, time.time()
            )
        except Exception:
            log.exception(
                "consult: could not store mail %s from %s: answered 451", mail.message_id, mail.sender
            )
            return "451 4.3.0 Temporary failure storing the message; please try again later"
        if outcome.code == RATE:
            return "450 4.7.1 Too many messages from this sender; try again later"
        log.info(
            "consult: mail %s from %s: %s%s%s",
            mail.message_id,
            mail.sender,
            outcome.code,
            f" (case #{outcome.case_id})" if outcome.case_id else "",
            f" defects: {', '.join(mail.defects)}" if mail.defects else "",
        )
        if self.stored is not None:
            self.stored()
        return "250 2.0.0 Message accepted"


class ConsultServer:
    """The SMTP server on its own event loop in a thread (the CLI runs it in the foreground)."""

    def __init__(self, handler: ConsultHandler, host: str, port: int) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None

    def factory(self) -> SMTP:
        site = self.handler.site
        return SMTP(
            self.handler,
            data_size_limit=site.consult.max_message_bytes,
            enable_SMTPUTF8=True,
            hostname=self.handler.address.partition("@")[2],
            ident="coderef CaseConsultant",
            timeout=60,
        )

    async def _start(self) -> None:
        self._server = await self.loop.create_server(self.factory, host=self.host, port=self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    def start(self) -> None:
        """Binds (port 0: any free port, then `self.port`) and serves in a background thread (which
        owns the loop: the caller's thread may run an event loop of its own)."""
        ready = threading.Event()
        failed: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            try:
                self.loop.run_until_complete(self._start())
            except BaseException as exc:
                failed.append(exc)
                ready.set()
                return
            ready.set()
            self.loop.run_forever()
            self._close()

        self._thread = threading.Thread(target=run, name="consult-smtpd", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failed:
            raise failed[0]

    def serve_forever(self, started: Callable[[int], Any] | None = None) -> None:
        self.loop.run_until_complete(self._start())
        if started is not None:
            started(self.port)
        try:
            self.loop.run_forever()
        finally:
            self._close()

    def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            self.loop.run_until_complete(self._server.wait_closed())
            self._server = None

    def stop(self) -> None:
        if self._thread is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self._thread = None
        if not self.loop.is_closed():
            self.loop.close()
