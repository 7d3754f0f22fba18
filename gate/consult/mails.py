"""The consult product's mails: the automatic first answer, consultants' notifications, replies to the
asker, and the answers to senders who cannot ask (not registered, no consults in the plan, quota spent)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import formataddr, parseaddr

from ..mail.message import Message
from . import addresses
from .addresses import ReplyTag
from .answers import FirstAnswer
from .cases import Case, Quota


def _subject(case: Case) -> str:
    subject = case.subject if case.subject.lower().startswith("re:") else f"Re: {case.subject}"
    return f"{subject} [case #{case.id}]"


def _quote(text: str, limit: int = 4000) -> str:
    text = text if len(text) <= limit else text[:limit] + "\n[…]"
    return "\n".join(f"> {line}" for line in text.splitlines())


@dataclass(frozen=True)
class ConsultMails:
    site_name: str
    base_url: str
    sender: str  # the mail settings' From:
    consult_address: str
    keys: list[str]

    @property
    def _from(self) -> str:
        return formataddr((f"{self.site_name} CaseConsultant", parseaddr(self.sender)[1]))

    def reply_to(self, case_id: int, role: str, account_id: int) -> str:
        return addresses.reply_address(self.consult_address, self.keys, ReplyTag(case_id, role, account_id))

    def _footer(self) -> str:
        return f"\n\n-- \n{self.site_name} CaseConsultant · {self.base_url}/account/consult/\n"

    def first_answer(
        self, case: Case, answer: FirstAnswer, question_id: str, refs: list[str], message_id: str
    ) -> Message:
        by = " from CasePilot, our coding assistant," if answer.by == "casepilot" else ""
        text = (
            f"This is an automatic answer{by} sent within seconds of your question. Your question is\n"
            "queued for a human coding consultant, who will also read it and reply by mail.\n\n"
            f"Case number: #{case.id}\n\n{answer.text}\n\n"
            f"Your question and every reply: {self.base_url}/account/consult/{case.id}/\n"
            "To add to your question, reply to this mail."
        )
        return Message(
            to=case.email,
            subject=_subject(case),
            text=text + self._footer(),
            sender=self._from,
            kind="consult-auto",
            reply_to=self.reply_to(case.id, addresses.ASKER, case.account_id),
            in_reply_to=question_id,
            references=tuple(refs),
            auto_submitted="auto-replied",
            message_id=message_id,
        )

    def notify(
        self,
        case: Case,
        consultant: tuple[int, str],
        question: str,
        first: FirstAnswer | None,
        refs: list[str],
        follow_up: bool = False,
    ) -> Message:
        kid, email = consultant
        what = "The asker added to" if follow_up else "New question in"
        auto = f"\n\nThe automatic first answer was:\n\n{_quote(first.text)}" if first else ""
        text = (
            f"{what} case #{case.id} from {case.email}:\n\n{_quote(question)}{auto}\n\n"
            f"Work it in the inbox: {self.base_url}/consult/inbox/{case.id}/\n"
            "Or reply to this mail: your reply goes to the asker and into the case (from this address only)."
        )
        return Message(
            to=email,
            subject=f"[case #{case.id}] {case.subject}",
            text=text + self._footer(),
            sender=self._from,
            kind="consult-notify",
            reply_to=self.reply_to(case.id, addresses.CONSULTANT, kid),
            in_reply_to=refs[-1] if refs else None,
            references=tuple(refs),
            auto_submitted="auto-generated",
        )

    def to_asker(
        self, case: Case, consultant_email: str, body: str, refs: list[str], message_id: str
    ) -> Message:
        text = (
            f"{body}\n\n"
            f"— your {self.site_name} coding consultant ({consultant_email})\n\n"
            f"Case #{case.id}: {self.base_url}/account/consult/{case.id}/ · reply to this mail to answer."
        )
        return Message(
            to=case.email,
            subject=_subject(case),
            text=text + self._footer(),
            sender=self._from,
            kind="consult-reply",
            reply_to=self.reply_to(case.id, addresses.ASKER, case.account_id),
            in_reply_to=refs[-1] if refs else None,
            references=tuple(refs[-20:]),
            message_id=message_id,
        )

    def _refusal(self, to: str, subject: str, text: str, in_reply_to: str, kind: str) -> Message:
        return Message(
            to=to,
            subject=f"Re: {subject}" if subject else f"Your question to {self.site_name}",
            text=text + self._footer(),
            sender=self._from,
            kind=kind,
            in_reply_to=in_reply_to,
            references=(in_reply_to,),
            auto_submitted="auto-replied",
        )

    def not_registered(self, to: str, subject: str, in_reply_to: str) -> Message:
        return self._refusal(
            to,
            subject,
            (
                f"Thank you for your question. {self.site_name} CaseConsultant answers members, and "
                f"{to} has no\n"
                "account with us, so your question was not kept.\n\n"
                f"Create a free account with this address at {self.base_url}/register/ and send your "
                "question again\n"
                f"(or ask through {self.base_url}/consult/). See what each plan includes: "
                f"{self.base_url}/plans/"
            ),
            in_reply_to,
            "consult-register",
        )

    def not_in_plan(self, to: str, subject: str, plan: str, in_reply_to: str) -> Message:
        return self._refusal(
            to,
            subject,
            (
                f"Thank you for your question. Your plan ({plan}) does not include CaseConsultant "
                "questions, so\n"
                f"your question was not kept. See the plans that do: {self.base_url}/plans/"
            ),
            in_reply_to,
            "consult-upgrade",
        )

    def quota_spent(self, to: str, subject: str, quota: Quota, in_reply_to: str) -> Message:
        renews = (
            f" Your allowance renews on {time.strftime('%Y-%m-%d', time.gmtime(quota.renews_at))}."
            if quota.renews_at
            else " Questions count for a rolling period."
        )
        return self._refusal(
            to,
            subject,
            (
                f"Thank you for your question. You have used all {quota.allowed} questions of your "
                "plan for this\n"
                f"period, so this one was not kept.{renews}\n\nMore questions come with a larger plan: "
                f"{self.base_url}/plans/"
            ),
            in_reply_to,
            "consult-quota",
        )

    def rejected_reply(self, to: str, subject: str, in_reply_to: str) -> Message:
        return self._refusal(
            to,
            subject,
            (
                "Your mail was sent to a case reply address that does not belong to you, or it answers a\n"
                "different case, so it was not added to any case. Reply from the address the case "
                "mail was sent\n"
                f"to, or write to {self.consult_address} to ask a new question."
            ),
            in_reply_to,
            "consult-rejected",
        )
