"""The import registry (`<data_dir>/imports.json`): which file `coderef import` kept for each kind."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .config import SiteConfig
from .errors import BuildError

REGISTRY = "imports.json"


def entries(cfg: SiteConfig) -> dict[str, Any]:
    """Every registered kind with its entry (file, records, sha256, imported)."""
    path = cfg.data_path / REGISTRY
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BuildError(f"{path}: unreadable import registry ({exc}); delete it and import again") from None
    return data if isinstance(data, dict) else {}


def imported_source(cfg: SiteConfig, kind: str) -> Path | None:
    """The registered file for a kind, or None when nothing was imported (or it is gone)."""
    entry = entries(cfg).get(kind)
    if not isinstance(entry, dict) or "file" not in entry:
        return None
    path = cfg.data_path / str(entry["file"])
    return path if path.exists() else None


def register(cfg: SiteConfig, kind: str, entry: dict[str, Any]) -> None:
    """Records `entry` for `kind`, replacing the registry file atomically."""
    reg = entries(cfg)
    reg[kind] = entry
    path = cfg.data_path / REGISTRY
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(json.dumps(reg, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
