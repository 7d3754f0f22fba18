"""The shape of the code: no import cycles, no reaching into another module's private names, no
silent import fallbacks, no module over 500 lines. Read from the source with `ast`, so a lazy
import inside a function counts like any other."""
from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The packages whose modules are checked. The gate is checked once its restructuring (issue #11/#18,
# gate side) lands: add "gate" here.
PACKAGES = ("generator",)
MAX_LINES = 500


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    imports: dict[str, int] = field(default_factory=dict)  # imported project module -> first line
    private: list[str] = field(default_factory=list)  # "line: what" for each private name used


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: Module, level: int, target: str | None) -> str:
    """The absolute name of a (possibly relative) import's module."""
    if level == 0:
        return target or ""
    base = module.name.split(".")
    if module.path.name != "__init__.py":
        base.pop()
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, *([target] if target else [])])


def _read(path: Path) -> Module:
    return Module(_module_name(path), path, ast.parse(path.read_text(encoding="utf-8"), str(path)))


def _modules(packages: tuple[str, ...] = PACKAGES) -> dict[str, Module]:
    found = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = _read(path)
            found[module.name] = module
    for module in found.values():
        _collect(module, found)
    return found


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _collect(module: Module, known: dict[str, Module]) -> None:
    """Fills `imports` (project modules only) and `private` (private names of other modules)."""
    aliases: dict[str, str] = {}  # local name -> project module it stands for
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    module.imports.setdefault(alias.name, node.lineno)
                    aliases[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, node.level, node.module)
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                if sub in known:  # `from . import urls`: the submodule itself
                    module.imports.setdefault(sub, node.lineno)
                    aliases[alias.asname or alias.name] = sub
                elif source in known:
                    module.imports.setdefault(source, node.lineno)
                    if _is_private(alias.name):
                        module.private.append(f"{node.lineno}: from {source} import {alias.name}")
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and _is_private(node.attr):
            target = aliases.get(node.value.id)
            if target is not None and target != module.name:
                module.private.append(f"{node.lineno}: {node.value.id}.{node.attr} ({target})")


def _cycles(modules: dict[str, Module]) -> list[list[str]]:
    """Every strongly connected group of more than one module (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(name: str) -> None:  # Tarjan's algorithm
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        for dep in modules[name].imports:
            if dep not in index:
                visit(dep)
                low[name] = min(low[name], low[dep])
            elif dep in on_stack:
                low[name] = min(low[name], index[dep])
        if low[name] == index[name]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == name:
                    break
            if len(group) > 1 or name in modules[name].imports:
                out.append(sorted(group))

    for name in sorted(modules):
        if name not in index:
            visit(name)
    return out


def test_every_module_imports() -> None:
    for name in _modules():
        if not name.endswith(".__main__"):  # runs the command line
            importlib.import_module(name)


def test_no_import_cycles() -> None:
    modules = _modules()
    cycles = _cycles(modules)
    described = []
    for group in cycles:
        edges = [
            f"{a} -> {b} (line {modules[a].imports[b]})"
            for a in group
            for b in modules[a].imports
            if b in group
        ]
        described.append("; ".join(edges))
    assert not cycles, "import cycles: " + " | ".join(described)


def test_no_private_names_across_modules() -> None:
    found = [f"{m.path.relative_to(ROOT)}:{p}" for m in _modules().values() for p in m.private]
    assert not found, "private names used across modules (make them public or move the code): " + "; ".join(
        found
    )


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names)


def test_no_silent_import_fallbacks() -> None:
    """A missing or renamed module must fail loudly, not quietly switch a feature off."""
    found = [
        f"{m.path.relative_to(ROOT)}:{node.lineno}"
        for m in _modules().values()
        for node in ast.walk(m.tree)
        if isinstance(node, ast.ExceptHandler) and node.type is not None and _catches_import_error(node)
    ]
    assert not found, "except ImportError in: " + ", ".join(found)


def test_no_module_over_500_lines() -> None:
    sizes = {str(m.path.relative_to(ROOT)): len(m.path.read_text().splitlines()) for m in _modules().values()}
    long = {path: n for path, n in sizes.items() if n > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them by role): {long}"


def test_build_reads_as_a_table_of_contents() -> None:
    lines = len((ROOT / "generator" / "build.py").read_text().splitlines())
    assert lines < 300, f"generator/build.py has {lines} lines; move stage code into the stage's own module"


# The checks themselves must be able to fail: a small package with a cycle, a private import and a
# fallback.


def _sample(tmp_path: Path, files: dict[str, str]) -> dict[str, Module]:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    modules: dict[str, Module] = {}
    for name, text in {"__init__.py": "", **files}.items():
        path = pkg / name
        path.write_text(text)
        parts = ["pkg"] if name == "__init__.py" else ["pkg", name.removesuffix(".py")]
        modules[".".join(parts)] = Module(".".join(parts), path, ast.parse(text))
    for module in modules.values():
        _collect(module, modules)
    return modules


@pytest.mark.parametrize(
    ("files", "cycle"),
    [
        ({"a.py": "from .b import x\n", "b.py": "def f():\n    from .a import y\n"}, ["pkg.a", "pkg.b"]),
        (
            {"a.py": "from . import b\n", "b.py": "import pkg.c\n", "c.py": "from .a import z\n"},
            ["pkg.a", "pkg.b", "pkg.c"],
        ),
        ({"a.py": "from .b import x\n", "b.py": "import os\n"}, None),
    ],
)
def test_cycle_check_finds_cycles_through_lazy_imports(
    tmp_path: Path, files: dict[str, str], cycle: list[str] | None
) -> None:
    assert _cycles(_sample(tmp_path, files)) == ([cycle] if cycle else [])


def test_private_check_finds_private_imports_and_attributes(tmp_path: Path) -> None:
    modules = _sample(tmp_path, {
        "a.py": "_JOB = {}\ndef _render(): pass\n",
        "b.py": "from .a import _JOB\nfrom . import a\na._render()\n",
        "c.py": "from .a import __doc__\nimport os\nos._exit\n",
    })
    assert modules["pkg.b"].private == ["1: from pkg.a import _JOB", "3: a._render (pkg.a)"]
    assert modules["pkg.c"].private == []
