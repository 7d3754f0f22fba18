"""Importers: adapters from official file layouts to the one `CodeRecord` type.

Three families:
  * code-set importers (`CodeSetImporter`) yield the pages of a code set from one official file;
    the packaged file (if any) is only the default, `coderef import KIND PATH` replaces it.
  * reference-book importers (`BookImporter`) read the books coders look codes up in: the
    ICD-10-CM Index and Tables, the ICD-10-PCS Tables, Definitions and Index (`generator.books`);
  * section providers (CMS premium data such as NCCI edits) attach extra sections to pages that
    already exist; they are registered in `generator.premium` (see there).

The render code never knows which importer a record came from.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from ..books import Book
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


class BookImporter(Protocol):
    kind: str  # CLI name: `coderef import <kind> PATH`
    codeset: str  # the code set whose codes the book leads to
    description: str

    def read(self, path: Path) -> Book:
        """The whole book; raises `BuildError` naming `path:line` when the file is not in the layout."""


class _Book:
    def __init__(self, kind: str, codeset: str, description: str, reader: object) -> None:
        self.kind = kind
        self.codeset = codeset
        self.description = description
        self._reader = reader

    def read(self, path: Path) -> Book:
        result: Book = self._reader.read(path)  # type: ignore[attr-defined]
        return result


def book_importers() -> dict[str, BookImporter]:
    """The reference-book importers by kind."""
    from .. import books
    from ..model import ICD10CM, ICD10PCS
    from .icd10cm_index import IndexReader
    from .icd10pcs_definitions import PcsDefinitionsReader
    from .icd10pcs_index import PcsIndexReader
    from .icd10pcs_tables import PcsTablesReader

    cdc = "CDC XML from icd10cm-table-index-<date>.zip"
    cms = "CMS XML from the ICD-10-PCS release zip"
    cm = [
        (books.CM_INDEX, "ICD-10-CM Index to Diseases and Injuries"),
        (books.CM_EINDEX, "ICD-10-CM External Cause of Injuries Index"),
        (books.CM_NEOPLASM, "ICD-10-CM Neoplasm Table"),
        (books.CM_DRUG, "ICD-10-CM Table of Drugs and Chemicals"),
    ]
    found: list[BookImporter] = [_Book(k, ICD10CM, f"{name} ({cdc})", IndexReader(k)) for k, name in cm]
    pcs: list[tuple[str, str, object]] = [
        (books.PCS_TABLES, "Tables, icd10pcs_tables_<year>.xml", PcsTablesReader()),
        (books.PCS_DEFINITIONS, "Definitions, icd10pcs_definitions_<year>.xml", PcsDefinitionsReader()),
        (books.PCS_INDEX, "Index, icd10pcs_index_<year>.xml", PcsIndexReader()),
    ]
    found += [_Book(k, ICD10PCS, f"ICD-10-PCS {name} ({cms})", reader) for k, name, reader in pcs]
    return {b.kind: b for b in found}
