"""The premium sections' share of a full build, in CPU seconds: `PageSections` and the store's packing
for every CPT and HCPCS code page and every tenth ICD-10 page of the default site (the shipped public
record), in one process. CPU time, so that it holds on a machine other builds keep busy."""
from __future__ import annotations

import gc
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import ROOT, fast_tmp, make_default_project

ICD_EVERY = 10  # ICD-10 pages carry only the small GEMs section: a sample of them is enough


def run(root: Path = ROOT) -> dict[str, Any]:
    from generator.inputs import load_inputs
    from generator.load import load_models
    from generator.premium import PREMIUM_ORDER, PageSections
    from generator.store import ZLIB_LEVEL, Packer

    base = Path(tempfile.mkdtemp(prefix="coderef-bench-premium-", dir=fast_tmp()))
    gc_was_enabled = gc.isenabled()
    gc.disable()  # as the build runs
    try:
        proj = make_default_project(base / "proj")
        loaded = load_inputs(proj)
        models = load_models(loaded.cfg, loaded.pages, loaded.problems, quiet=True, jobs=2,
                             defer_premium=True)
        premium = PageSections.of(loaded.cfg, models)
        packer = Packer()
        out: dict[str, Any] = {"zlib_level": ZLIB_LEVEL, "codesets": {}, "html_mb": {}}
        html: dict[str, int] = {}
        packed = 0
        t_open = time.process_time()
        premium(PREMIUM_ORDER[0], "99213")  # opens the files and reads the small tables
        out["open_s"] = round(time.process_time() - t_open, 2)
        for codeset in PREMIUM_ORDER:
            keys = sorted(r.key for r in models[codeset].records if r.is_code) if codeset in models else []
            if codeset.startswith("icd"):
                keys = keys[::ICD_EVERY]
            built = packing = 0.0
            for key in keys:
                t0 = time.process_time()
                sections = premium(codeset, key)
                t1 = time.process_time()
                for s in sections:
                    blob = packer(s.id, s.title, s.html)[3]
                    packed += len(blob or b"")
                    html[s.id] = html.get(s.id, 0) + len(s.html)
                    packer.forget(s.html)
                built += t1 - t0
                packing += time.process_time() - t1
            out["codesets"][codeset] = {"pages": len(keys), "sections_s": round(built, 2),
                                        "pack_s": round(packing, 2)}
        premium.close()
        out["html_mb"] = {k: round(v / 1e6, 1) for k, v in html.items()}
        out["packed_mb"] = round(packed / 1e6, 1)
        return out
    finally:
        if gc_was_enabled:
            gc.enable()
        shutil.rmtree(base, ignore_errors=True)


def report(r: dict[str, Any]) -> list[str]:
    lines = [f"premium sections, CPU seconds in one process (files opened {r['open_s']:.2f}s; ICD-10 pages: "
             f"every {ICD_EVERY}th)"]
    for cs, f in r["codesets"].items():
        lines.append(f"  {cs:10s} {f['pages']:6,} pages  sections {f['sections_s']:6.2f}s  "
                     f"pack {f['pack_s']:5.2f}s")
    html = ", ".join(f"{k} {v:.1f}" for k, v in r["html_mb"].items())
    lines.append(f"  section HTML MB: {html}; packed {r['packed_mb']:.1f} MB (zlib level {r['zlib_level']})")
    return lines


if __name__ == "__main__":
    for line in report(run()):
        print(line)
