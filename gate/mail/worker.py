"""The delivery worker: claims due messages, hands them to the relay, records the outcome.

Retries back off exponentially (with jitter) while the relay is down or answers 4xx; a message still
undelivered `give_up_after` seconds after it was queued is marked failed and logged (see
`coderef mail status`). Any number of workers may run against one database: claims are exclusive.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
from dataclasses import dataclass

from ..db import Database
from ..loops import Looper
from . import dkim, outbox
from .outbox import Claimed
from .relay import DeliveryError, Relay
from .settings import MailSettings

log = logging.getLogger("coderef.mail")


@dataclass
class Round:
    """What one delivery round did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


def backoff_ms(settings: MailSettings, attempts: int) -> int:
    """Delay before attempt `attempts + 1`: base × 2^(attempts-1), capped, ±20% so workers spread out."""
    delay = min(settings.retry_base * 2 ** max(0, attempts - 1), settings.retry_max)
    return int(delay * random.uniform(0.8, 1.2) * 1000)


class Worker(Looper):
    """Delivers the outbox of `db` through the configured relay; `start()` runs it in a thread."""

    def __init__(self, db: Database, settings: MailSettings, name: str | None = None) -> None:
        if settings.relay is None:
            raise ValueError("a mail worker needs CODEREF_SMTP_URL")
        self.db = db
        self.settings = settings
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"  # the lease holder
        self.relay = Relay(settings.relay, local_hostname=settings.domain)
        super().__init__(f"mail-worker-{self.name}", settings.poll, log)

    # -- one round -----------------------------------------------------------------------------
    def deliver_due(self) -> Round:
        """Claims one batch of due messages and delivers it; returns the counts."""
        s = self.settings
        # A poll waits like a request (twice over), not the CLI's 10 s: a shutdown waits for it.
        batch = self.db.call_waiting(2 * self.db.wait, outbox.claim, self.name, s.batch, int(s.lease * 1000))
        done = Round()
        try:
            for i, item in enumerate(batch):
                try:
                    self._send(item)
                except DeliveryError as exc:
                    self._failed(item, exc, done)
                    if exc.relay_down:  # the rest would fail the same way: back off all of them
                        for rest in batch[i + 1 :]:
                            self._failed(rest, exc, done)
                        break
                    continue
                self.db.call(outbox.mark_sent, item.id)
                done.sent += 1
        finally:
            self.relay.close()
        return done

    def _send(self, item: Claimed) -> None:
        raw = item.raw.encode("ascii")
        s = self.settings
        if s.dkim_key is not None:
            raw = dkim.sign(raw, s.dkim_selector, s.dkim_domain, s.dkim_key)
        self.relay.send(item.sender, item.recipient, raw)

    def _failed(self, item: Claimed, exc: DeliveryError, done: Round) -> None:
        now = outbox.now_ms()
        age = (now - item.created_at) / 1000
        if not exc.temporary or age >= self.settings.give_up_after:
            why = (
                str(exc)
                if not exc.temporary
                else f"gave up after {age:.0f} s and {item.attempts} attempts: {exc}"
            )
            log.error("mail %s to %s failed: %s", item.message_id, item.recipient, why)
            self.db.call(outbox.mark_failed, item.id, why)
            done.failed += 1
            return
        log.warning(
            "mail %s to %s: attempt %d failed, will retry: %s",
            item.message_id,
            item.recipient,
            item.attempts,
            exc,
        )
        self.db.call(outbox.mark_retry, item.id, now + backoff_ms(self.settings, item.attempts), str(exc))
        done.retried += 1

    def round(self) -> bool:
        """One delivery round for the thread: a full batch means more may be due."""
        return self.deliver_due().handled >= self.settings.batch


def wake(state: object) -> None:
    """Wakes this process's worker (if it runs one) after a transaction that enqueued mail committed."""
    worker = getattr(state, "mail_worker", None)
    if isinstance(worker, Worker):
        worker.wake()
