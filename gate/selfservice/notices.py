"""The account mails (reset link, verification link, password changed, account deleted, already
registered), each enqueued in the caller's transaction."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlencode

from generator.config import SiteConfig

from ..db import Conn
from ..mail import outbox
from ..mail.message import Message
from ..mail.settings import MailSettings
from . import tokens
from .tokens import LIFETIMES, RESET, VERIFY


@dataclass(frozen=True)
class Notices:
    """What every account mail needs: the site's name and address, and the sender."""

    site_name: str
    base_url: str
    mail: MailSettings

    def _send(self, conn: Conn, to: str, kind: str, subject: str, text: str) -> str:
        footer = f"\n\n-- \n{self.site_name} · {self.base_url}\n"
        return outbox.enqueue(
            conn,
            Message(
                to=to,
                subject=subject,
                text=text + footer,
                sender=self.mail.sender,
                kind=kind,
                auto_submitted="auto-generated",
            ),
        )

    def link(self, path: str, token: str) -> str:
        return f"{self.base_url}{path}?{urlencode({'token': token})}"

    def reset(self, conn: Conn, to: str, token: str) -> str:
        minutes = LIFETIMES[RESET] // 60
        return self._send(
            conn,
            to,
            "password-reset",
            f"Reset your {self.site_name} password",
            (
                f"Someone (we hope you) asked to reset the password of your {self.site_name} account.\n\n"
                f"Choose a new password here (the link works once, for {minutes} minutes):\n\n"
                f"{self.link('/gate/password/reset', token)}\n\n"
                "If you did not ask for this, ignore this mail: your password stays as it is."
            ),
        )

    def verify(self, conn: Conn, to: str, token: str) -> str:
        days = LIFETIMES[VERIFY] // 86400
        return self._send(
            conn,
            to,
            "verify-email",
            f"Confirm your email address for {self.site_name}",
            (
                f"Please confirm that {to} is your address for {self.site_name}:\n\n"
                f"{self.link('/gate/email/verify', token)}\n\n"
                f"The link works once, for {days} days. If you did not create an account, ignore this mail."
            ),
        )

    def password_changed(self, conn: Conn, to: str, ip: str, now: int) -> str:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(now))
        return self._send(
            conn,
            to,
            "password-changed",
            f"Your {self.site_name} password was changed",
            (
                f"The password of your {self.site_name} account was changed on {when} (from {ip}).\n"
                "Every other session of the account was logged out.\n\n"
                "If this was not you, reset your password now:\n\n"
                f"{self.base_url}/gate/password/forgot\n"
            ),
        )

    def account_deleted(self, conn: Conn, to: str) -> str:
        return self._send(
            conn,
            to,
            "account-deleted",
            f"Your {self.site_name} account was deleted",
            (
                f"Your {self.site_name} account ({to}) and everything kept with it were deleted"
                " at your request.\n"
                "Thank you for having used it."
            ),
        )

    def already_registered(self, conn: Conn, to: str) -> str | None:
        """For registration: the address has an account already (told by mail, never on screen);
        at most 3 such mails a day, so nobody can flood an owner by registering their address."""
        day_ago = outbox.now_ms() - 86_400_000
        sent = conn.one(
            "SELECT COUNT(*) FROM mail_outbox WHERE recipient=? AND kind='already-registered'"
            " AND created_at>?",
            (to, day_ago),
        )
        if int(sent[0]) >= 3:
            return None
        return self._send(
            conn,
            to,
            "already-registered",
            f"You already have a {self.site_name} account",
            (
                f"Someone tried to create a {self.site_name} account for {to}, which already has one.\n\n"
                f"Log in: {self.base_url}/login/\n"
                f"Forgot your password? {self.base_url}/gate/password/forgot\n\n"
                "If this was not you, nothing changed and you can ignore this mail."
            ),
        )


def notices_for(site: SiteConfig, mail: MailSettings) -> Notices:
    return Notices(site.site_name, site.base_url.rstrip("/"), mail)


def send_verification(conn: Conn, n: Notices, account_id: int, email: str, now: int) -> str:
    """Issues a verification link and enqueues its mail (inside the caller's transaction)."""
    return n.verify(conn, email, tokens.issue(conn, account_id, tokens.VERIFY, email, now))
