"""CasePilot, the coding assistant: question -> lookups in the build's facts -> an answer with citations.

Python API (also used by the mail consultant): `CasePilot(facts_path).answer(question, context)`
returns an `Answer` (`html`, `text`, `citations`, `topic`, `kind`); `answer_async` for event loops.
"""

from __future__ import annotations

from .answer import Answer, BadQuestion, CasePilot
from .doc import Citation

__all__ = ["Answer", "BadQuestion", "CasePilot", "Citation"]
