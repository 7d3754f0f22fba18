"""The README documents every config key and every CLI command."""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from generator.cli import parser
from generator.config import DEFAULT_PROTECTED, Assistant, Jobs, Meter, SiteConfig

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_config_key_is_documented() -> None:
    internal = {"root", "path"}
    nested = {"meter": Meter, "jobs": Jobs, "assistant": Assistant}
    keys = [f.name for f in dataclasses.fields(SiteConfig) if f.name not in internal and f.name not in nested]
    for prefix, schema in nested.items():
        keys += [f"{prefix}.{f.name}" for f in dataclasses.fields(schema)]
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
        for command, options in _options(p, f"coderef {name}"):
            assert command.split()[-1] in README, f"{command} is not in README.md"
            for opt in options:
                assert opt in README, f"{command} {opt} is not in README.md"


def _options(p: argparse.ArgumentParser, command: str) -> list[tuple[str, list[str]]]:
    """(command, its --options) for a parser and each of its sub-commands (`coderef jobs approve`)."""
    own = [o for a in p._actions for o in a.option_strings if o.startswith("--") and o != "--help"]
    out = [(command, own)]
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                out += _options(child, f"{command} {name}")
    return out


def test_every_casepilot_setting_is_documented() -> None:
    names = ("CODEREF_ASSISTANT_LLM_URL", "CODEREF_ASSISTANT_LLM_MODEL", "CODEREF_ASSISTANT_LLM_KEY",
             "CODEREF_ASSISTANT_LLM_TIMEOUT", "POST /gate/ask", "GET /gate/asks", "lcd",
             "hcpcs-modifiers")
    for name in names:
        assert name in README, name
