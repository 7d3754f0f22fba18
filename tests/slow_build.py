"""`python tests/slow_build.py ROOT SECONDS`: `coderef build --jobs 1` pausing after each page.

For tests that kill a build midway or start a second one while it runs; the pause goes through
the build's own per-page seam (`RenderJob.on_page`), not a hook read in the render loop.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from generator.build import build


def main() -> None:
    root, pause = Path(sys.argv[1]), float(sys.argv[2])
    build(root, jobs=1, on_page=lambda _path: time.sleep(pause))


if __name__ == "__main__":
    main()
