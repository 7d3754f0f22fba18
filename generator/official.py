"""The public record shipped with the project: which file in `content/official/` backs each import kind.

A kind's file is, in this order: the one `sources:` in site.yml names, the one `coderef import`
registered, else the public-domain file shipped in the project's `content/official/` (listed in
`SHIPPED`, described in `content/official/PROVENANCE.md`). Pages name the release of the file
actually used, so importing a newer release changes their release lines.

Importers that are registered elsewhere only add their kind's reader; the file they read by
default is listed here.
"""
from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

from .config import SiteConfig
from .registry import imported_source

FOLDER = "official"  # below the project's content/


@dataclass(frozen=True, slots=True)
class Shipped:
    """One import kind's default file."""

    kind: str
    path: str  # below content/official/
    release: str = ""  # the release line when the file name does not carry it ("" = read it from the file)
    companions: tuple[str, ...] = ()  # files shipped with it that a reader may need (CDC's XML schemas)


SHIPPED: dict[str, Shipped] = {s.kind: s for s in (
    # HCPCS Level II: the July 2024 codes, and the 369 modifiers of CMS's January 2020 official file
    # (the 2024 re-export has no modifiers).
    Shipped("hcpcs", "hcpcs/hcpcs_level2_2024-07.tsv.gz"),
    Shipped("hcpcs-modifiers", "hcpcs/HCPC2020_ANWEB_w_disclaimer.txt.gz"),
    # The same January 2020 file as the earlier HCPCS release held, for release history (#17).
    Shipped("hcpcs-earlier", "hcpcs/HCPC2020_ANWEB_w_disclaimer.txt.gz"),
    # NCCI and MUE, effective 2024-07-01 (the add-on code file is dated 2024-06-03).
    Shipped("ncci-ptp-practitioner", "ncci/ptp_practitioner_2024q3.tsv.gz"),
    Shipped("ncci-ptp-hospital", "ncci/ptp_outpatient_hospital_2024q3.tsv.gz"),
    Shipped("ncci-aoc", "ncci/aoc_2024-06.tsv.gz", release="2024-06-03"),
    Shipped("mue-practitioner", "mue/mue_practitioner_2024-07-01.tsv.gz"),
    Shipped("mue-hospital", "mue/mue_outpatient_hospital_2024-07-01.tsv.gz"),
    Shipped("mue-dme", "mue/mue_dme_supplier_2024-07-01.tsv.gz"),
    # Physician Fee Schedule 2024: four quarterly releases stacked; the importers keep the newest.
    Shipped("pprrvu", "mpfs/pprrvu_2024_quarters_noCPTdesc.tsv.gz"),
    Shipped("gpci", "mpfs/gpci_2024_quarters.tsv.gz"),
    # GEMs (final, FY2018) and the ICD-9-CM descriptions of their ICD-9 side (v32, final).
    Shipped("gem-cm-to-icd9", "gems/2018_I10gem.txt.gz"),
    Shipped("gem-icd9-to-cm", "gems/2018_I9gem.txt.gz"),
    Shipped("gem-pcs-to-icd9", "gems/gem_pcsi9.txt.gz", release="FY2018"),
    Shipped("gem-icd9-to-pcs", "gems/gem_i9pcs.txt.gz", release="FY2018"),
    Shipped("icd9-descriptions-dx", "icd9cm/CMS32_DESC_LONG_DX.txt.gz", release="v32 (FY2015)"),
    Shipped("icd9-descriptions-sg", "icd9cm/CMS32_DESC_LONG_SG.txt.gz", release="v32 (FY2015)"),
    # ICD-10-PCS FY2024 tables, definitions and index (#12 reads them).
    Shipped("icd10pcs-tables", "icd10pcs/icd10pcs_tables_2024_reconstructed.xml.gz", release="FY2024"),
    Shipped(
        "icd10pcs-definitions", "icd10pcs/icd10pcs_definitions_2024_reconstructed.xml.gz", release="FY2024"
    ),
    Shipped("icd10pcs-index", "icd10pcs/icd10pcs_index_2024_reconstructed.xml.gz", release="FY2024"),
    # ICD-10-CM FY2025 Alphabetic Index, Neoplasm Table, Table of Drugs, External Cause Index (#12).
    Shipped("icd10cm-index", "icd10cm-index/icd10cm_index_2025_reconstructed.xml.gz", release="FY2025",
            companions=("icd10cm-index/icd10cm-index-2025.xsd",)),
    Shipped("icd10cm-neoplasm", "icd10cm-index/icd10cm_neoplasm_2025.xml.gz", release="FY2025",
            companions=("icd10cm-index/icd-10-cm-drug-neoplasm-2025.xsd",)),
    Shipped("icd10cm-drug", "icd10cm-index/icd10cm_drug_2025.xml.gz", release="FY2025",
            companions=("icd10cm-index/icd-10-cm-drug-neoplasm-2025.xsd",)),
    Shipped("icd10cm-eindex", "icd10cm-index/icd10cm_eindex_2025.xml.gz", release="FY2025",
            companions=("icd10cm-index/icd10cm-index-2025.xsd",)),
    # ICD-10-CM FY2025 code list: the previous release, for release history (#17).
    Shipped("icd10cm-fy2025", "icd10cm/icd10cm_fy2025_codes.tsv.gz", release="FY2025"),
    # CMS Medicare Coverage Database: the list of LCDs and Articles, August 2025 (#13).
    Shipped("lcd", "lcd/documents_latest_2025-08.csv.gz", release="2025-08"),
)}


def official_dir(cfg: SiteConfig) -> Path:
    return cfg.content_dir / FOLDER


def shipped_file(cfg: SiteConfig, kind: str) -> Path | None:
    """The shipped default file of `kind` in this project, or None (no such kind, or not shipped here)."""
    entry = SHIPPED.get(kind)
    if entry is None:
        return None
    path = official_dir(cfg) / entry.path
    return path if path.is_file() else None


def shipped_release(kind: str) -> str | None:
    """The release line of the shipped file when its name does not carry it (None: read it from the file)."""
    entry = SHIPPED.get(kind)
    return entry.release or None if entry is not None else None


def release_if_shipped(cfg: SiteConfig, kind: str, path: Path) -> str | None:
    """The release of the shipped file of `kind` when `path` holds the same content (compressed or
    not), else None. Some official files do not name their release (CMS's gem_pcsi9.txt is the same
    name every year): a copy of the file we ship is known by its bytes."""
    release = shipped_release(kind)
    shipped = shipped_file(cfg, kind)
    if release is None or shipped is None:
        return None
    return release if _content(shipped) == _content(path) else None


def _content(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


@dataclass(frozen=True, slots=True)
class Source:
    """The file a kind is read from, where it was chosen and its explicit release (None: from the file)."""

    kind: str
    path: Path
    origin: str  # "site.yml" (sources:), "imported" (coderef import) or "shipped" (content/official)
    release: str | None = None


def source(cfg: SiteConfig, kind: str) -> Source | None:
    """The file of `kind`: `sources:` in site.yml, else the imported file, else the shipped one."""
    if kind in cfg.sources:
        return Source(kind, cfg.root / cfg.sources[kind], "site.yml")
    imported = imported_source(cfg, kind)
    if imported is not None:
        return Source(kind, imported, "imported")
    shipped = shipped_file(cfg, kind)
    if shipped is not None:
        return Source(kind, shipped, "shipped", shipped_release(kind))
    return None
