"""Runs every benchmark and prints the figures (medians of several runs)."""
from __future__ import annotations

import importlib
import json
import sys
import traceback

from .common import ROOT


def main() -> int:
    names = sys.argv[1:] or ["build", "stages", "search", "gate", "cms", "mixed", "jobs", "mail", "assistant"]
    results = {}
    for name in names:
        try:
            mod = importlib.import_module(f"bench.{name}")
        except ImportError as exc:
            print(f"{name}: not available ({exc})")
            continue
        print(f"== {name}", flush=True)
        try:
            r = mod.run(ROOT)
        except Exception:  # a failed benchmark must not hide the others
            traceback.print_exc()
            continue
        results[name] = r
        lines = mod.report(r) if hasattr(mod, "report") else [json.dumps(r, indent=2, default=str)]
        for line in lines:
            print(line, flush=True)
    (ROOT / "var").mkdir(exist_ok=True)
    (ROOT / "var" / "bench.json").write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
