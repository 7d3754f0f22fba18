"""`coderef check`: the build's load, validate and link stages, writing nothing."""
from __future__ import annotations

from pathlib import Path

from .book_sections import attach_books
from .errors import BuildError, Problems
from .inputs import load_inputs
from .jobs import stage as jobs_stage
from .link import link_models
from .load import load_models


def check(root: Path, *, quiet: bool = True) -> Problems:
    """Validates config, hand-written pages (and their merge with the imported data) and job
    listings; writes nothing."""
    loaded = load_inputs(root)
    jobs_stage.check(loaded.cfg, loaded.problems)
    if not loaded.problems.errors:
        try:
            models = load_models(loaded.cfg, loaded.pages, loaded.problems, quiet=quiet)
            attach_books(loaded.cfg, link_models(models, loaded.problems, quiet=quiet), quiet=quiet)
        except BuildError as exc:
            loaded.problems.error("build", 0, str(exc))
    return loaded.problems
