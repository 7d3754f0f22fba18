"""Settings: secrets never print, production needs a key, development makes one (0600)."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gate.settings import SettingsError, load_settings


def test_development_generates_and_keeps_a_private_key(tmp_path: Path) -> None:
    s = load_settings(tmp_path, {})
    key_file = tmp_path / "var" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_settings(tmp_path, {}).keys == s.keys and len(s.keys[0]) >= 32
    assert s.keys[0] not in repr(s.secret_keys) and s.keys[0] not in str(s)


def test_production_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="CODEREF_SECRET_KEYS"):
        load_settings(tmp_path, {"CODEREF_ENV": "production"})
    assert not (tmp_path / "var" / "secret_key").exists()
    s = load_settings(
        tmp_path, {"CODEREF_ENV": "production", "CODEREF_SECRET_KEYS": "a" * 20 + ", " + "b" * 20}
    )
    assert s.keys == ["a" * 20, "b" * 20] and s.cookie_secure == "true"


def test_env_file_and_validation(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CODEREF_SECRET_KEYS=" + "f" * 24 + "\nCODEREF_TRUST_PROXY=1\n")
    s = load_settings(tmp_path, {})
    assert s.keys == ["f" * 24] and s.trust_proxy == 1
    db = "postgresql://u:hunter2@db/x"
    assert "hunter2" not in repr(load_settings(tmp_path, {"CODEREF_DATABASE_URL": db}))
    for bad in ({"CODEREF_TRUST_PROXY": "yes please"}, {"CODEREF_ARGON2_MEMORY_KIB": "1024"},
                {"CODEREF_DATABASE_URL": "mysql://x"}, {"CODEREF_COOKIE_SECURE": "maybe"},
                {"CODEREF_SECRET_KEYS": "short"}):
        with pytest.raises(SettingsError):
            load_settings(tmp_path, bad)
