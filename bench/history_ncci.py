"""NCCI/MUE history benchmark: the cost of holding a second quarter of the full NCCI PTP practitioner file
(2.5 million edits) and the MUE practitioner file beside the shipped ones.

A later quarter is derived from the shipped file (a few edits deleted, modifier indicators changed, one
edit added; one MUE value changed), imported, and the history computed: cold (the shipped quarter
converted and both compared in SQL) and warm (the comparison read back from its cache)."""
from __future__ import annotations

import gzip
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import ROOT, fast_tmp

PTP = Path("ncci") / "ptp_practitioner_2024q3.tsv.gz"
MUE = Path("mue") / "mue_practitioner_2024-07-01.tsv.gz"


def _later(src: Path, dest: Path, change: Any) -> None:
    lines = gzip.decompress(src.read_bytes()).decode().splitlines(keepends=True)
    change(lines)
    dest.write_text("".join(lines), encoding="utf-8")


def _ptp(lines: list[str]) -> None:
    """Deletes five edits in force, flips one modifier indicator, adds one edit."""
    done = 0
    for n, line in enumerate(lines[1:], 1):
        cells = line.rstrip("\n").split("\t")
        if cells[2] == "" and done < 5:
            cells[2] = "2024-12-31"
            done += 1
        elif cells[2] == "" and cells[3] in "01" and done == 5:
            cells[3] = "0" if cells[3] == "1" else "1"
            done += 1
        else:
            continue
        lines[n] = "\t".join(cells) + "\n"
        if done > 5:
            break
    lines.append("99213\t0999T\t\t1\tCPT Manual or CMS manual coding instruction\n")


def _mue(lines: list[str]) -> None:
    cells = lines[1].split("\t")
    cells[1] = str(int(cells[1]) + 1)
    lines[1] = "\t".join(cells)


def run(root: Path = ROOT) -> dict[str, Any]:
    from generator.config import SiteConfig
    from generator.history import ncci_mue
    from generator.premium import import_premium

    base = Path(tempfile.mkdtemp(prefix="coderef-bench-ncci-history-", dir=fast_tmp()))
    try:
        proj = base / "proj"
        for rel in (PTP, MUE):
            (proj / "content" / "official" / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / "content" / "official" / rel, proj / "content" / "official" / rel)
        cfg = SiteConfig(root=proj)
        _later(root / "content" / "official" / PTP, base / "ptp_practitioner_2024q4.tsv", _ptp)
        _later(root / "content" / "official" / MUE, base / "mue_practitioner_2024-10-01.tsv", _mue)
        t0 = time.perf_counter()
        import_premium(cfg, "ncci-ptp-practitioner", base / "ptp_practitioner_2024q4.tsv")
        import_premium(cfg, "mue-practitioner", base / "mue_practitioner_2024-10-01.tsv")
        imported = time.perf_counter() - t0
        t0 = time.perf_counter()
        history = ncci_mue.ncci_mue_history(cfg)
        cold = time.perf_counter() - t0
        assert history is not None
        changes = {p.kind: len(p.edits) + len(p.mues) for p in history.pairs}
        ncci_mue.forget()  # a new build process: the comparison is read from its cache
        t0 = time.perf_counter()
        ncci_mue.ncci_mue_history(cfg)
        warm = time.perf_counter() - t0
        # The comparison alone, without the shipped quarter's conversion (already cached above).
        from generator.history.ncci_compare import compare_ptp
        from generator.premium import PREMIUM_KINDS
        from generator.premium.files import normalised
        from generator.premium.releases import held_sources

        files = [normalised(cfg, s, PREMIUM_KINDS["ncci-ptp-practitioner"].run)
                 for s in held_sources(cfg, "ncci-ptp-practitioner")]
        t0 = time.perf_counter()
        compare_ptp(files[0], files[1])
        compare = time.perf_counter() - t0
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return {"import_s": imported, "history_cold_s": cold, "history_warm_s": warm, "ptp_compare_s": compare,
            "changes": changes}


def report(r: dict[str, Any]) -> list[str]:
    return [
        f"ncci history: a second quarter of NCCI PTP practitioner (2.5 M edits) and MUE practitioner held: "
        f"import {r['import_s']:.1f}s",
        f"  history cold {r['history_cold_s']:.1f}s (the shipped quarter converted, then compared); "
        f"warm {r['history_warm_s']:.2f}s (cached); the PTP comparison alone {r['ptp_compare_s']:.1f}s",
        f"  changes found: {r['changes']}",
    ]
