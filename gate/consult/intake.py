"""What becomes of a received mail or a web question: a new case, a follow-up, a consultant's reply,
or a refusal mail — decided and stored in one transaction (the SMTP server answers 250 after it)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from generator.config import SiteConfig

from ..accounts import limits
from ..accounts import records as accounts
from ..db import Conn
from ..mail import outbox
from ..mail.message import Message, new_message_id
from . import addresses, cases
from .addresses import ReplyTag
from .answers import FirstAnswer
from .inbound import Inbound, strip_quoted
from .mails import ConsultMails

STORED, FOLLOW_UP, REPLIED, DUPLICATE, IGNORED = "stored", "follow-up", "replied", "duplicate", "ignored"
UNKNOWN, NOT_IN_PLAN, QUOTA, REJECTED, RATE = "unknown-sender", "not-in-plan", "quota", "rejected", "rate"
REFUSALS_PER_SENDER = 3  # refusal mails per sender address per hour: no backscatter floods


@dataclass(frozen=True)
class Outcome:
    code: str
    case_id: int | None = None
    mail: str | None = None  # the Message-ID of a mail queued in answer, if any


def consult_address(site: SiteConfig) -> str:
    from urllib.parse import urlsplit

    return site.consult.address or f"ask@{urlsplit(site.base_url).hostname or 'localhost'}"


class Intake:
    def __init__(self, site: SiteConfig, mails: ConsultMails) -> None:
        self.site = site
        self.mails = mails

    def allowance(self, plan: str) -> int | None:
        return self.site.consult.plans.get(plan, 0)

    def _refuse(self, conn: Conn, code: str, to: str, message: Message | None, now: float) -> Outcome:
        """Queues the refusal mail unless this sender was refused a few times this hour already."""
        key = f"consult-refusal:{to}"
        if message is None or not limits.counted(conn, key, REFUSALS_PER_SENDER, now):
            return Outcome(code)
        return Outcome(code, mail=outbox.enqueue(conn, message))

    def receive(self, conn: Conn, mail: Inbound, tag: ReplyTag | None, now: float) -> Outcome:
        """Decides and stores; call it once per received message (all recipients together)."""
        with conn.transaction():
            if cases.known_message(conn, mail.message_id) is not None:
                return Outcome(DUPLICATE)  # resent after a 451, or delivered twice: stored once
            key = f"consult-sender:{mail.sender}"
            if not limits.counted(conn, key, self.site.consult.sender_rate, now):
                return Outcome(RATE)
            account = accounts.find(conn, mail.sender) if mail.sender else None
            if tag is not None:
                return self._reply(conn, mail, tag, account, now)
            if mail.automatic:
                return Outcome(IGNORED)  # never answer an auto-reply, a bounce or a list
            subject, mid = mail.subject, mail.message_id
            if account is None:
                return self._refuse(
                    conn, UNKNOWN, mail.sender, self.mails.not_registered(mail.sender, subject, mid), now
                )
            threaded = cases.cases_of_messages(conn, mail.references)
            own = [
                c for c in (cases.get(conn, i) for i in sorted(threaded)) if c and c.account_id == account.id
            ]
            if own:  # a reply to one of our mails sent to the plain address: a follow-up
                return self._follow_up(conn, own[-1], mail, account.id, now)
            allowed = self.allowance(account.plan)
            if allowed == 0:
                return self._refuse(
                    conn,
                    NOT_IN_PLAN,
                    account.email,
                    self.mails.not_in_plan(account.email, subject, account.plan, mid),
                    now,
                )
            case_id, quota = cases.open_case(
                conn, account.id, allowed, self.site.consult.period, subject or "", "mail", now
            )
            if case_id is None:
                return self._refuse(
                    conn,
                    QUOTA,
                    account.email,
                    self.mails.quota_spent(account.email, subject, quota, mid),
                    now,
                )
            cases.add_message(
                conn, case_id, cases.ASKER, account.id, _question(mail), mail.attachments, mid, now
            )
            return Outcome(STORED, case_id)

    def _follow_up(self, conn: Conn, case: cases.Case, mail: Inbound, account_id: int, now: float) -> Outcome:
        body = strip_quoted(_question(mail))
        cases.add_message(
            conn, case.id, cases.ASKER, account_id, body, mail.attachments, mail.message_id, now
        )
        cases.asker_wrote(conn, case.id, now)
        self.notify(conn, case, body, follow_up=True)
        return Outcome(FOLLOW_UP, case.id)

    def _reply(
        self, conn: Conn, mail: Inbound, tag: ReplyTag, account: accounts.AccountRow | None, now: float
    ) -> Outcome:
        case = cases.get(conn, tag.case_id)
        threaded = cases.cases_of_messages(conn, mail.references)
        ok = (
            case is not None
            and account is not None
            and account.id == tag.account_id
            and (not threaded or threaded == {case.id})  # never attach a reply to another case's thread
            and (
                (tag.role == addresses.ASKER and case.account_id == account.id)
                or (tag.role == addresses.CONSULTANT and cases.is_consultant(conn, account.id))
            )
        )
        if not ok or case is None or account is None:
            if mail.automatic:
                return Outcome(IGNORED)
            return self._refuse(
                conn,
                REJECTED,
                mail.sender,
                self.mails.rejected_reply(mail.sender, mail.subject, mail.message_id),
                now,
            )
        if mail.automatic:
            return Outcome(IGNORED)  # e.g. the asker's vacation notice answering our mail
        if tag.role == addresses.ASKER:
            return self._follow_up(conn, case, mail, account.id, now)
        body = strip_quoted(_question(mail))
        cases.add_message(
            conn, case.id, cases.CONSULTANT, account.id, body, mail.attachments, mail.message_id, now
        )
        sent = self.reply_to_asker(conn, case, account.email, account.id, body, now, stored=True)
        return Outcome(REPLIED, case.id, sent)

    # -- shared with the web inbox ------------------------------------------------------------
    def reply_to_asker(
        self,
        conn: Conn,
        case: cases.Case,
        consultant_email: str,
        consultant_id: int,
        body: str,
        now: float,
        stored: bool = False,
    ) -> str:
        """Mails a consultant's reply to the asker (and stores it, unless already stored)."""
        message_id = new_message_id(self.mails.sender)
        if not stored:
            cases.add_message(conn, case.id, cases.CONSULTANT, consultant_id, body, [], message_id, now)
        refs = cases.message_ids(conn, case.id)
        cases.consultant_replied(conn, case.id, consultant_id, now)
        cases.add_ref(conn, case.id, message_id)
        return outbox.enqueue(conn, self.mails.to_asker(case, consultant_email, body, refs, message_id))

    def notify(
        self,
        conn: Conn,
        case: cases.Case,
        question: str,
        follow_up: bool = False,
        first: FirstAnswer | None = None,
    ) -> None:
        """Tells the case's consultant (or every consultant while nobody has claimed it)."""
        targets = cases.consultants(conn)
        if case.claimed_by is not None:
            targets = [t for t in targets if t[0] == case.claimed_by] or targets
        refs = cases.message_ids(conn, case.id)
        for consultant in targets:
            message = self.mails.notify(case, consultant, question, first, refs, follow_up)
            cases.add_ref(conn, case.id, outbox.enqueue(conn, message))

    def ask_on_web(
        self, conn: Conn, account: accounts.AccountRow, subject: str, text: str, now: float
    ) -> tuple[int | None, cases.Quota]:
        """A question from the /consult/ form: the same quota and storage as mail."""
        with conn.transaction():
            allowed = self.allowance(account.plan)
            if allowed == 0:
                return None, cases.Quota(0, 0, None)
            case_id, quota = cases.open_case(
                conn, account.id, allowed, self.site.consult.period, subject, "web", now
            )
            if case_id is not None:
                mid = f"<web.{secrets.token_hex(12)}@{self.mails.consult_address.partition('@')[2]}>"
                cases.add_message(conn, case_id, cases.ASKER, account.id, text, [], mid, now)
            return case_id, quota


def _question(mail: Inbound) -> str:
    text = mail.text or "(This mail had no text.)"
    return text
