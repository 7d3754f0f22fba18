"""Assembles the consult parts from the gate settings, and runs the background threads (first
answers, mail delivery) of a process that receives questions."""

from __future__ import annotations

from generator.assistant_facts import facts_path
from generator.store_reader import StoreReader

from ..assistant.answer import CasePilot
from ..assistant.llm import ModelSettings
from ..db import Database
from ..mail.worker import Worker
from ..settings import Settings
from .answers import FirstAnswerer, SearchAnswerer
from .intake import Intake, consult_address
from .mails import ConsultMails
from .pilot import PilotAnswerer
from .responder import Responder


def intake_for(settings: Settings) -> Intake:
    site = settings.site
    mails = ConsultMails(
        site.site_name, site.base_url.rstrip("/"), settings.mail.sender, consult_address(site), settings.keys
    )
    return Intake(site, mails)


def answerer_for(settings: Settings) -> FirstAnswerer:
    """The first-answer source: CasePilot (with the language model the gate uses, if any), or the
    site's code pages found for the question where CasePilot is switched off (`assistant.enabled`)."""
    site = settings.site
    search = SearchAnswerer(site, StoreReader(site.store_path))
    if not site.assistant.enabled:
        return search
    return PilotAnswerer(CasePilot(facts_path(site), ModelSettings.from_env()), search, site.base_url)


class Background:
    """The responder and (with a relay configured) a mail worker, as threads of this process."""

    def __init__(self, db: Database, settings: Settings, answerer: FirstAnswerer | None = None) -> None:
        self.worker = (
            Worker(db, settings.mail) if settings.mail.relay is not None and settings.mail.worker else None
        )
        self.answerer = answerer or answerer_for(settings)
        self.responder = Responder(db, intake_for(settings), self.answerer, wake_mail=self.wake_mail)

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
        self.answerer.close()
