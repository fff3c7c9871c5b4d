"""Helpers for resume tests: the colleague's captures (tests/data/resume/, docs/resume.md) and
Claude Code transcripts written the way CLI 2.1.332 writes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runner.accounting.usage import ModelUsage, Usage, model_usage_from
from runner.events.types import QueryResult

CAPTURES = Path(__file__).resolve().parent.parent / "data" / "resume"


def captured(scenario: str, kind: str, **match: Any) -> list[dict[str, Any]]:
    """The capture's records of `kind` (e.g. `message`) whose fields equal `match`."""
    out = []
    for line in (CAPTURES / f"{scenario}.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("kind") == kind and all(record.get(k) == v for k, v in match.items()):
            out.append(record)
    return out


def captured_result(scenario: str, run: str) -> dict[str, Any]:
    (result,) = captured(scenario, "message", run=run, **{"class": "ResultMessage"})
    return result


def query_result(raw: dict[str, Any], at_ns: int = 9) -> QueryResult:
    """A captured ResultMessage as the event adapter gives it."""
    return QueryResult(
        subtype=raw["subtype"],
        is_error=raw["is_error"],
        num_turns=raw["num_turns"],
        duration_ms=raw["duration_ms"],
        usage=Usage.from_dict(raw["usage"]),
        total_cost_usd=raw["total_cost_usd"],
        api_error_status=None,
        errors=(),
        result=raw.get("result"),
        sdk_session_id=raw["session_id"],
        model_usage=model_usage_from(raw["model_usage"]),
        at_ns=at_ns,
    )


def cost_state(result: dict[str, Any]) -> dict[str, Any]:
    """The `cost-state` record the CLI appends at a clean exit, as it holds a result's
    cumulative figures (measured: docs/resume.md, 'The figures in ResultMessage')."""
    return {
        "type": "cost-state",
        "sessionId": result["session_id"],
        "totalCostUSD": result["total_cost_usd"],
        "totalAPIDuration": result["duration_api_ms"],
        "modelUsage": result["model_usage"],
    }


def write_transcript(
    config_dir: Path, session_id: str, records: list[dict[str, Any]], slug: str = "-workspace"
) -> Path:
    """`<config dir>/projects/<slug>/<id>.jsonl` with these records (one JSON object a line)."""
    path = config_dir / "projects" / slug / f"{session_id}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def models(raw: dict[str, Any]) -> dict[str, ModelUsage]:
    return model_usage_from(raw)
