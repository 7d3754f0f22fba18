"""Helpers shared by the benchmarks: timing child processes, medians, sample projects."""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fast_tmp() -> Path:
    """tmpfs when the machine has it: clean builds are timed there (see DEVELOPERS.md on ext4)."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path("/tmp")


def byte_compile() -> None:
    """The generator byte-compiled, as `make setup` leaves a checkout: with PYTHONDONTWRITEBYTECODE set
    (as here), every timed `coderef` command would otherwise compile it again (~0.3 s)."""
    import compileall

    compileall.compile_dir(ROOT / "generator", quiet=1)


def make_default_project(dest: Path) -> Path:
    """A copy of the repo's own content and theme: the embedded default site."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "content", dest / "content")
    shutil.copytree(ROOT / "themes", dest / "themes")
    return dest


def run_timed(args: list[str], cwd: Path | None = None) -> tuple[float, float, str]:
    """Runs a command; returns wall seconds, peak RSS in MiB (the process tree's largest) and stdout."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - t0
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{err[-2000:]}")
    return took, usage.ru_maxrss / 1024, out


def coderef(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "generator", "--root", str(root), *args]


def median(xs: list[float]) -> float:
    return statistics.median(xs)
