"""Browser-test kit: the small test build served by a real `coderef serve`, and headless Debian Chromium."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.gate.sitekit import uvicorn_server

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "tests" / "artifacts"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def need(path: Path | str, what: str) -> None:
    """Skips when a browser-test tool is missing (`make browser` installs it); in CI it must be there."""
    if Path(path).exists():
        return
    message = f"{what} is missing at {path}: run `make browser`"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def copy_project(src: Path, dest: Path) -> Path:
    """A private copy of a built project, so the gate's own database never lands in the shared build."""
    shutil.copytree(src, dest, symlinks=True)
    for leftover in (dest / "var").glob("gate.sqlite*"):
        leftover.unlink()
    return dest


def serve(root: Path) -> Iterator[str]:
    """`coderef serve` (uvicorn, site + gate on one origin) on a free 127.0.0.1 port; yields the base URL."""
    env = {"CODEREF_SECRET_KEYS": "browser-test-key-" + "b" * 32, "CODEREF_ENV": "development"}
    with uvicorn_server(root, env, module="generator.cli") as base:
        yield base


@pytest.fixture(scope="session")
def live_site(small_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the small test build, served with a fresh gate database for this test session."""
    root = copy_project(small_site, tmp_path_factory.mktemp("browser") / "proj")
    yield from serve(root)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium. Module-scoped: Playwright's sync API allows one running instance per
    process, and other test modules start their own."""
    need(CHROMIUM, "Debian chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def new_page(browser: Any, base_url: str, *, width: int = 1280, height: int = 900, js: bool = True,
             bypass_csp: bool = False) -> Any:
    """A page in a fresh context (new cookies: a new guest); console errors fail the test at
    `check_console`."""
    ctx = browser.new_context(
        base_url=base_url, viewport={"width": width, "height": height}, java_script_enabled=js,
        bypass_csp=bypass_csp,
    )
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.js_errors = errors  # type: ignore[attr-defined]
    return page


def js_errors(page: Any) -> list[str]:
    return list(page.js_errors)


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def run_axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the current page (WCAG 2.1 A/AA and best practices)."""
    need(AXE, "axe-core")
    # Evaluated through the DevTools protocol, not as a <script> tag: the pages' own Content-Security-Policy
    # (script-src 'self') stays in force, so a test never needs `bypass_csp` just to run axe.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;void 0")
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]
