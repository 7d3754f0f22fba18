"""CMS premium data at full size: import the real files, build every section, read the largest back."""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

# kind -> file below shared/data (the real files documented in PROVENANCE.md)
REAL = {
    "ncci-ptp-practitioner": "ncci/ptp_practitioner_2024q3.tsv.gz",
    "ncci-ptp-hospital": "ncci/ptp_outpatient_hospital_2024q3.tsv.gz",
    "mue-practitioner": "mue/mue_practitioner_2024-07-01.tsv.gz",
    "mue-hospital": "mue/mue_outpatient_hospital_2024-07-01.tsv.gz",
    "mue-dme": "mue/mue_dme_supplier_2024-07-01.tsv.gz",
    "ncci-aoc": "ncci/aoc_2024-06.tsv.gz",
    "pprrvu": "mpfs/pprrvu_2024_quarters_noCPTdesc.tsv.gz",
    "gpci": "mpfs/gpci_2024_quarters.tsv.gz",
    "gem-cm-to-icd9": "gems/2018_I10gem.txt.gz",
    "gem-icd9-to-cm": "gems/2018_I9gem.txt.gz",
    "gem-pcs-to-icd9": "gems/gem_pcsi9.txt.gz",
    "gem-icd9-to-pcs": "gems/gem_i9pcs.txt.gz",
    "icd9-descriptions-dx": "icd9cm/CMS32_DESC_LONG_DX.txt.gz",
    "icd9-descriptions-sg": "icd9cm/CMS32_DESC_LONG_SG.txt.gz",
}
HCPCS = "hcpcs/hcpcs_level2_2024-07.tsv.gz"
# Release dates the re-exported file names do not carry.
RELEASES = {"ncci-aoc": "2024-06-03"}


def import_real(root: Path, cfg: Any) -> dict[str, dict[str, Any]]:
    from generator.premium import import_premium

    out: dict[str, dict[str, Any]] = {}
    for kind, rel in REAL.items():
        t0 = time.perf_counter()
        r = import_premium(cfg, kind, SHARED / rel, RELEASES.get(kind))
        out[kind] = {"rows": r.rows, "seconds": round(time.perf_counter() - t0, 2),
                     "bytes": r.path.stat().st_size, "release": r.release}
    return out


def _pages(cfg: Any) -> dict[str, set[str]]:
    """Every page a full site would have: HCPCS from the July 2024 file, CPT numbers, all GEM ICD-10 codes."""
    import sqlite3

    from generator.importers.hcpcs import HcpcsImporter
    from generator.premium import extra_records
    from generator.premium.db import data_file
    from generator.premium.gems import page_key

    pages: dict[str, set[str]] = {"hcpcs": set(), "cpt": set(), "icd-10-cm": set(), "icd-10-pcs": set()}
    pages["hcpcs"] = {r.key for r in HcpcsImporter().read(SHARED / HCPCS) if r.is_code}
    pages["cpt"] = {r.key for r in extra_records(cfg, pages) if r.is_code}
    for kind, cs in (("gem-cm-to-icd9", "icd-10-cm"), ("gem-pcs-to-icd9", "icd-10-pcs")):
        db = sqlite3.connect(data_file(cfg, kind))
        pages[cs] = {page_key(cs, str(r[0])) for r in db.execute("SELECT DISTINCT icd10 FROM gem")}
        db.close()
    return pages


def run(root: Path) -> dict[str, Any]:
    if not SHARED.is_dir():
        print(f"cms: {SHARED} is absent; skipped")
        return {"skipped": True}
    from generator.config import SiteConfig
    from generator.premium import premium_sections
    from generator.store import Packer, StoreWriter
    from generator.store_reader import StoreReader

    with tempfile.TemporaryDirectory(prefix="coderef-cms-") as tmp:
        cfg = SiteConfig(root=Path(tmp))
        imports = import_real(root, cfg)
        pages = _pages(cfg)
        store_path = Path(tmp) / "protected.sqlite"
        writer = StoreWriter(store_path, fresh=True)
        t0 = time.perf_counter()
        count = 0
        sizes: list[tuple[int, str, str]] = []
        current: tuple[str, str] | None = None
        batch: list[tuple[str, str, bytes, bytes | None]] = []
        packer = Packer()
        for cs, key, section in premium_sections(cfg, pages):
            if (cs, key) != current:
                if current is not None:
                    writer.add_many([(current[0], current[1], current[1], batch)])
                current, batch = (cs, key), []
            html = section.html
            sizes.append((len(html.encode()), cs, key))
            batch.append(packer(section.id, section.title, html))
            count += 1
        if current is not None:
            writer.add_many([(current[0], current[1], current[1], batch)])
        writer.commit()
        build_s = time.perf_counter() - t0
        sizes.sort(reverse=True)
        reader = StoreReader(store_path)
        largest = [(cs, key) for _, cs, key in sizes[:200]]
        times = []
        for cs, key in largest:
            t = time.perf_counter()
            reader.sections(cs, key)
            times.append(time.perf_counter() - t)
        reader.close()
        times.sort()
        return {
            "imports": imports,
            "pages": {cs: len(v) for cs, v in pages.items()},
            "sections": count,
            "sections_seconds": round(build_s, 1),
            "store_bytes": store_path.stat().st_size,
            "largest_section": {"codeset": sizes[0][1], "key": sizes[0][2], "bytes": sizes[0][0]},
            "read_ms_median": round(statistics.median(times) * 1000, 3),
            "read_ms_p99": round(times[int(len(times) * 0.99) - 1] * 1000, 3),
        }


def report(r: dict[str, Any]) -> list[str]:
    if r.get("skipped"):
        return ["cms: skipped (no shared data)"]
    lines = [f"{k:<22} {v['rows']:>10,} rows {v['seconds']:>6.1f} s {v['bytes'] / 1e6:>7.1f} MB  "
             f"{v['release']}"
             for k, v in r["imports"].items()]
    big = r["largest_section"]
    lines += [
        f"pages covered: {r['pages']}",
        f"sections: {r['sections']:,} in {r['sections_seconds']} s; store {r['store_bytes'] / 1e6:.1f} MB",
        f"largest section: {big['codeset']}/{big['key']} {big['bytes'] / 1e3:.0f} KB of HTML",
        f"read of the 200 largest: median {r['read_ms_median']} ms, p99 {r['read_ms_p99']} ms",
    ]
    return lines
