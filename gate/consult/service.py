"""Assembles the consult parts from the gate settings, and runs the background threads (first
answers, mail delivery) of a process that receives questions."""

from __future__ import annotations

from generator.store import StoreReader

from ..db import Database
from ..mail.worker import Worker
from ..settings import Settings
from .answers import FirstAnswerer, SearchAnswerer
from .intake import Intake, consult_address
from .mails import ConsultMails
from .responder import Responder


def intake_for(settings: Settings) -> Intake:
    site = settings.site
    mails = ConsultMails(
        site.site_name, site.base_url.rstrip("/"), settings.mail.sender, consult_address(site), settings.keys
    )
    return Intake(site, mails)


def answerer_for(settings: Settings) -> FirstAnswerer:
    """The first-answer source: the site's code pages found for the question (CasePilot plugs in here)."""
    return SearchAnswerer(settings.site, StoreReader(settings.site.store_path))


class Background:
    """The responder and (with a relay configured) a mail worker, as threads of this process."""

    def __init__(self, db: Database, settings: Settings, answerer: FirstAnswerer | None = None) -> None:
        self.worker = (
            Worker(db, settings.mail) if settings.mail.relay is not None and settings.mail.worker else None
        )
        self.responder = Responder(
            db, intake_for(settings), answerer or answerer_for(settings), wake_mail=self.wake_mail
        )

    def wake_mail(self) -> None:
        if self.worker is not None:
            self.worker.wake()

    def stored(self) -> None:
        """Something was committed that may need a first answer or a mail: look now."""
        self.responder.wake()
        self.wake_mail()

    def start(self) -> None:
        self.responder.start()
        if self.worker is not None:
            self.worker.start()

    def stop(self) -> None:
        self.responder.stop()
        if self.worker is not None:
            self.worker.stop()
