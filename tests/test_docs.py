"""The README documents every config key and every CLI command."""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from generator.cli import parser
from generator.config import DEFAULT_PROTECTED, Assistant, Meter, SiteConfig

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_config_key_is_documented() -> None:
    internal = {"root", "path"}
    keys = [f.name for f in dataclasses.fields(SiteConfig) if f.name not in internal | {"meter", "assistant"}]
    keys += [f"meter.{f.name}" for f in dataclasses.fields(Meter)]
    keys += [f"assistant.{f.name}" for f in dataclasses.fields(Assistant)]
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


def test_every_casepilot_setting_is_documented() -> None:
    names = ("CODEREF_ASSISTANT_LLM_URL", "CODEREF_ASSISTANT_LLM_MODEL", "CODEREF_ASSISTANT_LLM_KEY",
             "CODEREF_ASSISTANT_LLM_TIMEOUT", "POST /gate/ask", "GET /gate/asks", "lcd",
             "hcpcs-modifiers")
    for name in names:
        assert name in README, name
