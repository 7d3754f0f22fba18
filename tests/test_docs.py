"""The README documents every config key and every CLI command."""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from generator.cli import parser
from generator.config import DEFAULT_PROTECTED, Meter, SiteConfig

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_config_key_is_documented() -> None:
    internal = {"root", "path"}
    keys = [f.name for f in dataclasses.fields(SiteConfig) if f.name not in internal and f.name != "meter"]
    keys += [f"meter.{f.name}" for f in dataclasses.fields(Meter)]
    missing = [k for k in keys if f"`{k}`" not in README]
    assert missing == []


def test_every_section_kind_is_documented() -> None:
    missing = [k for k in DEFAULT_PROTECTED if f"`{k}`" not in README]
    assert missing == []


def test_every_cli_command_is_documented() -> None:
    ap = parser()
    sub = next(a for a in ap._actions if isinstance(a, argparse._SubParsersAction))
    missing = [name for name in sub.choices if f"coderef {name}" not in README]
    assert missing == []
    for name, p in sub.choices.items():
        for action in p._actions:
            for opt in action.option_strings:
                if opt.startswith("--") and opt != "--help":
                    assert opt in README, f"coderef {name} {opt} is not in README.md"
