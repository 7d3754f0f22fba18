"""The instant first answer: a thread that takes new cases, asks the `FirstAnswerer`, stores the
answer in the case and queues its mail and the consultants' notifications — exactly once per case,
whichever process (gate or SMTP server) gets to it, and again after a crash until it is done."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ..db import Conn, Database
from ..loops import Looper
from ..mail import outbox
from ..mail.message import new_message_id
from . import cases
from .answers import FirstAnswer, FirstAnswerer
from .intake import Intake

log = logging.getLogger("coderef.consult")
LEASE = 120  # seconds a process owns a case it is answering

_CLAIM = (
    "UPDATE consult_cases SET auto_lease=? WHERE id IN (SELECT id FROM consult_cases"
    " WHERE auto_state='pending' AND auto_lease<=? ORDER BY id LIMIT ?{lock}) RETURNING id"
)


def claim(conn: Conn, now: float, limit: int = 10) -> list[int]:
    # A read first: an idle poll takes no write lock (SQLite) and no row locks (PostgreSQL).
    if conn.one("SELECT 1 FROM consult_cases WHERE auto_state='pending' AND auto_lease<=? LIMIT 1",
                (int(now),)) is None:
        return []
    with conn.transaction():
        rows = conn.all(
            _CLAIM.format(lock=" FOR UPDATE SKIP LOCKED" if conn.pg else ""),
            (int(now) + LEASE, int(now), limit),
        )
    return sorted(int(r[0]) for r in rows)


class Responder(Looper):
    def __init__(
        self,
        db: Database,
        intake: Intake,
        answerer: FirstAnswerer,
        poll: float = 0.5,
        wake_mail: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.intake = intake
        self.answerer = answerer
        self._wake_mail = wake_mail
        super().__init__("consult-responder", poll, log)

    def answer_pending(self) -> int:
        """Answers the cases waiting for their first answer; returns how many were answered."""
        done = 0
        # A poll waits like a request (twice over), not the CLI's 10 s: a shutdown waits for it.
        for case_id in self.db.call_waiting(2 * self.db.wait, claim, time.time()):
            question = self.db.call(cases.first_question, case_id)
            try:
                answer = self.answerer(question)
            except Exception:
                log.exception(
                    "consult: the first answer of case #%d failed; it goes to consultants alone", case_id
                )
                answer = FirstAnswer(
                    "We could not prepare an automatic answer this time; a consultant will reply.",
                    [],
                    "error",
                )
            if self.db.call(self._finish, case_id, question, answer):
                done += 1
        if done and self._wake_mail is not None:
            self._wake_mail()
        return done

    def _finish(self, conn: Conn, case_id: int, question: str, answer: FirstAnswer) -> bool:
        now = time.time()
        with conn.transaction():
            cur = conn.execute(
                "UPDATE consult_cases SET auto_state=? WHERE id=? AND auto_state=?",
                (cases.DONE, case_id, cases.PENDING),
            )
            if cur.rowcount != 1:
                return False  # another process answered it meanwhile
            case = cases.get(conn, case_id)
            if case is None:
                return False
            refs = cases.message_ids(conn, case_id)
            message_id = new_message_id(self.intake.mails.sender)
            message = self.intake.mails.first_answer(case, answer, refs[0] if refs else "", refs, message_id)
            cases.add_message(conn, case_id, cases.AUTO, None, answer.text, [], message_id, now)
            outbox.enqueue(conn, message)
            self.intake.notify(conn, case, question, first=answer)
        return True

    def round(self) -> bool:
        return self.answer_pending() > 0
