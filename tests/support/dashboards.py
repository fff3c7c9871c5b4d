"""The shipped dashboards' queries, with Grafana's variables bound the way a user's first
view binds them (all projects, the last hour), ready for a real Prometheus."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[2]
DASHBOARDS = ROOT / "deploy" / "monitoring" / "grafana"
BINDINGS = {
    "$__rate_interval": "1m",
    "$__range": "1h",
    "$__interval": "15s",
    "${project:regex}": ".+",
    "$project": ".+",
}


def bind(expr: str) -> str:
    for variable, value in BINDINGS.items():
        expr = expr.replace(variable, value)
    return expr


def _panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in items:
        yield panel
        yield from _panels(panel.get("panels", []))


def panel_queries() -> list[tuple[str, list[str]]]:
    """(dashboard / panel title, its bound PromQL queries) for every panel with queries."""
    out = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text())
        for panel in _panels(board.get("panels", [])):
            exprs = [bind(t["expr"]) for t in panel.get("targets", []) if t.get("expr")]
            if exprs:
                out.append((f"{board['title']} / {panel['title']}", exprs))
    return out
