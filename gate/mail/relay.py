"""The SMTP relay client (smtplib): one connection reused across a batch; failures sorted into
temporary (retry later) and permanent (give up now) by their reply codes."""

from __future__ import annotations

import smtplib
import ssl

from .settings import RelayTarget


class DeliveryError(Exception):
    """A message was not accepted. `temporary`: try again later (connection trouble, 4xx)."""

    def __init__(self, message: str, temporary: bool, relay_down: bool = False) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.relay_down = relay_down  # the relay itself failed, not this message: later ones would too


def _context(target: RelayTarget) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=target.cafile)
    if not target.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _reply(code: int, text: bytes | str) -> str:
    detail = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {detail}".strip()[:300]


class Relay:
    """A connection to the relay of `target`, opened on first use and kept for the next message."""

    def __init__(self, target: RelayTarget, local_hostname: str | None = None) -> None:
        self.target = target
        self.local_hostname = local_hostname
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        t = self.target
        smtp: smtplib.SMTP
        if t.implicit_tls:
            smtp = smtplib.SMTP_SSL(
                t.host, t.port, local_hostname=self.local_hostname, timeout=t.timeout, context=_context(t)
            )
        else:
            smtp = smtplib.SMTP(t.host, t.port, local_hostname=self.local_hostname, timeout=t.timeout)
        try:
            smtp.ehlo()
            if not t.implicit_tls and t.starttls != "off":
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=_context(t))
                    smtp.ehlo()
                elif t.starttls == "require":
                    raise DeliveryError(
                        f"the relay {t.host}:{t.port} does not offer STARTTLS "
                        "(CODEREF_SMTP_URL has starttls=require)",
                        temporary=True,
                        relay_down=True,
                    )
            if t.username is not None:
                smtp.login(t.username, str(t.password) if t.password is not None else "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, sender: str, recipient: str, raw: bytes) -> None:
        """Hands one message to the relay; returns only when it answered 250 to the data."""
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            refused = self._smtp.sendmail(sender, [recipient], raw)
        except DeliveryError:
            self.close()
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            self._reset()
            code, text = next(iter(exc.recipients.values()))
            raise DeliveryError(
                f"recipient refused: {_reply(code, text)}", temporary=400 <= code < 500
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            self.close()  # a wrong password is an operator's fix; keep the mail and retry later
            raise DeliveryError(
                f"relay login failed: {_reply(exc.smtp_code, exc.smtp_error)}",
                temporary=True,
                relay_down=True,
            ) from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            self._reset()
            raise DeliveryError(
                _reply(exc.smtp_code, exc.smtp_error), temporary=400 <= exc.smtp_code < 500
            ) from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise DeliveryError(
                _reply(exc.smtp_code, exc.smtp_error), temporary=exc.smtp_code < 500, relay_down=True
            ) from None
        except (TimeoutError, smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            self.close()
            raise DeliveryError(
                f"relay {self.target.host}:{self.target.port}: {type(exc).__name__}: {exc}",
                temporary=True,
                relay_down=True,
            ) from None
        if refused:  # only one recipient: a partial refusal cannot happen, but never ignore it
            code, text = next(iter(refused.values()))
            raise DeliveryError(f"recipient refused: {_reply(code, text)}", temporary=400 <= code < 500)

    def _reset(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.rset()
            except (smtplib.SMTPException, OSError):
                self.close()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
