"""What a build reports to its caller."""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Problems


@dataclass
class BuildResult:
    mode: str  # "clean", "full", "pages" (hand-written pages only), "premium" (a replaced CMS file only),
    # "jobs" (the job board only) or "noop"
    pages: int = 0
    written: int = 0
    removed: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    reindexed: list[str] = field(default_factory=list)
    spliced: list[str] = field(default_factory=list)  # of `reindexed`: an edit spliced in (search_splice.py)
    problems: Problems = field(default_factory=Problems)
    changed: list[str] = field(default_factory=list)  # site paths a fast path replaced or removed
    rows: int = 0  # protected store rows a fast path rewrote (a replaced CMS file)
    # The build's large structures, handed to the caller instead of being freed on return: the
    # `coderef` command then exits without freeing them (see cli.run); a library caller frees
    # them with the result.
    held: list[object] = field(default_factory=list, repr=False, compare=False)
