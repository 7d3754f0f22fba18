"""CPT importer: a tab-separated `code<TAB>descriptor` file the operator supplies under an AMA licence."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from .. import model
from ..errors import BuildError

SOURCE = "CPT® (AMA), licensed file supplied by the operator"
_CODE = re.compile(r"[0-9]{4}[0-9FTU]")


class CptTsvImporter:
    kind = "cpt"
    codeset = model.CPT
    description = "CPT codes from your licensed AMA data: a tab-separated file of code<TAB>descriptor"

    def default_source(self) -> Path | None:
        return None  # CPT descriptors are AMA-copyrighted: never shipped, only imported

    def read(self, path: Path) -> Iterator[model.CodeRecord]:
        try:
            with open(path, encoding="utf-8-sig") as f:
                lines = f.read().splitlines()
        except UnicodeDecodeError as e:
            raise BuildError(
                f"{path}: not a UTF-8 text file ({e.reason}); save the CPT file as UTF-8"
            ) from None
        except OSError as e:
            raise BuildError(f"{path}: cannot read the CPT file: {e.strerror}") from None
        seen: dict[str, int] = {}
        order = 0
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            code, tab, descriptor = line.partition("\t")
            code, descriptor = code.strip(), descriptor.strip()
            if order == 0 and not any(ch.isdigit() for ch in code):
                continue  # optional header line ("Code<TAB>Descriptor")
            if not tab or not _CODE.fullmatch(code) or not descriptor:
                raise BuildError(
                    f"{path}:{n}: expected 'code<TAB>descriptor' (code = 4 digits + a digit, F, T or U), "
                    f"got {line[:80]!r}"
                )
            if code in seen:
                raise BuildError(f"{path}:{n}: code {code} appears twice (first on line {seen[code]})")
            seen[code] = n
            order += 1
            yield model.CodeRecord(
                codeset=model.CPT,
                key=code,
                title=descriptor,
                order=order,
                source=SOURCE,
            )
