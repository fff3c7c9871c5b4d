"""The folders are the stages, and every import arrow runs down them (README, "Layout"): the
commands above telemetry and output, above the session, above the ledger, above the events,
above the accounting vocabulary, above the leaves. A module may import its own stage or any
below it, never one above (and `python3 ../shared/tools/import_cycles.py src` finds no circle)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
LAYERS: list[tuple[str, ...]] = [
    ("runner.cli", "runner.__main__", "runner.doctor"),
    ("runner.launcher", "runner.otel", "runner.output"),
    ("runner.session",),
    ("runner.ledger",),
    ("runner.events", "runner.cli_telemetry"),
    ("runner.accounting",),
    ("runner.config", "runner.errors", "runner.redaction", "runner.environment_variables",
     "runner._version", "runner.offline"),
]  # fmt: skip


def _layer(module: str) -> int | None:
    for index, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def _modules() -> dict[str, Path]:
    out = {}
    for path in (SRC / "runner").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def upward_imports() -> list[str]:
    modules = _modules()
    found = []
    for module, path in modules.items():
        here = _layer(module)
        if here is None:
            continue  # the package's face (runner/__init__.py) re-exports from every stage
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                while name and name not in modules:
                    name = name.rpartition(".")[0]
                there = _layer(name) if name and name != "runner" else None
                if there is not None and there < here:
                    found.append(f"{module} → {name}")
    return found


def test_every_module_is_in_a_stage() -> None:
    assert [m for m in _modules() if m != "runner" and _layer(m) is None] == []


def test_no_import_arrow_runs_up_the_stages() -> None:
    assert upward_imports() == []
