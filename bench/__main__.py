"""Runs every benchmark and prints the figures (medians of several runs).

A benchmark that fails does not hide the others, but the run then exits 1 and names it: a figure
missing from the report must never look like a pass."""
from __future__ import annotations

import importlib
import json
import sys
import traceback

from .common import ROOT


def main() -> int:
    names = sys.argv[1:] or [
        "build", "stages", "premium", "ondemand", "history", "history_ncci", "search", "gate", "cms", "mixed",
        "jobs", "mail", "assistant",
    ]
    results = {}
    failed: list[str] = []
    for name in names:
        mod = importlib.import_module(f"bench.{name}")
        print(f"== {name}", flush=True)
        try:
            r = mod.run(ROOT)
        except Exception:  # a failed benchmark must not hide the others
            traceback.print_exc()
            failed.append(name)
            continue
        results[name] = r
        lines = mod.report(r) if hasattr(mod, "report") else [json.dumps(r, indent=2, default=str)]
        for line in lines:
            print(line, flush=True)
    (ROOT / "var").mkdir(exist_ok=True)
    (ROOT / "var" / "bench.json").write_text(json.dumps(results, indent=2, default=str))
    if failed:
        print(f"FAILED benchmarks: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
