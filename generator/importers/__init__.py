"""Importers: adapters from official file layouts to the one `CodeRecord` type.

Two families:
  * code-set importers (`CodeSetImporter`) yield the pages of a code set from one official file;
    the packaged file (if any) is only the default, `coderef import KIND PATH` replaces it.
  * section providers (CMS premium data such as NCCI edits) attach extra sections to pages that
    already exist; they are registered in `generator.premium` (see there).

The render code never knows which importer a record came from.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from ..model import CodeRecord
from .cpt import CptTsvImporter
from .hcpcs import HcpcsImporter
from .icd10cm import Icd10CmImporter
from .icd10pcs import Icd10PcsImporter


class CodeSetImporter(Protocol):
    kind: str  # CLI name: `coderef import <kind> PATH`
    codeset: str  # slug of the code set it fills
    description: str  # one line for `coderef import --help`

    def default_source(self) -> Path | None:
        """The packaged official file used when nothing was imported, or None."""

    def read(self, path: Path) -> Iterator[CodeRecord]:
        """Yields every record of the file, parents before children, in official order.

        Raises `generator.errors.BuildError` with a human message (naming the file, and the
        line where it applies) when the file is not in the expected layout.
        """


def codeset_importers() -> dict[str, CodeSetImporter]:
    """All code-set importers by kind. Adding a code set means adding a module and a line here."""
    importers: list[CodeSetImporter] = [
        Icd10CmImporter(), Icd10PcsImporter(), CptTsvImporter(), HcpcsImporter(),
    ]
    return {imp.kind: imp for imp in importers}
