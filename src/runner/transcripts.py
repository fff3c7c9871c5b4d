"""Read a subagent's per-call usage from its Claude Code transcript (JSON lines).

The SDK stream shows a subagent's calls only with `message_start` usage snapshots (output tokens
are a placeholder). The transcript, `.../subagents/agent-<id>.jsonl`, has each call's final usage
(`assistant` records) and when its request went out (`api-request` records).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from runner.types import Usage

log = logging.getLogger("runner")
MAX_TRANSCRIPT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class TranscriptCall:
    message_id: str
    model: str | None
    usage: Usage
    requested_ns: int | None
    answered_ns: int | None


def _ns(timestamp: object) -> int | None:
    if not isinstance(timestamp, str):
        return None
    try:
        return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1e9)
    except ValueError:
        return None


def read_calls(path: str | Path) -> dict[str, TranscriptCall]:
    """Calls by message id. Returns {} when the file is missing, too large or unreadable."""
    calls: dict[str, TranscriptCall] = {}
    file = Path(path)
    try:
        if file.stat().st_size > MAX_TRANSCRIPT_BYTES:
            log.debug("transcript %s too large; using streamed usage", file)
            return calls
        lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return calls
    requested: int | None = None
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        kind = record.get("type")
        if kind == "api-request":
            requested = _ns(record.get("timestamp"))
        elif kind == "assistant":
            message = record.get("message")
            if not isinstance(message, dict) or not isinstance(message.get("id"), str):
                continue
            message_id = message["id"]
            earlier = calls.get(message_id)
            calls[message_id] = TranscriptCall(
                message_id=message_id,
                model=message.get("model") if isinstance(message.get("model"), str) else None,
                usage=Usage.from_dict(message.get("usage")),
                requested_ns=earlier.requested_ns if earlier else requested,
                answered_ns=_ns(record.get("timestamp")),
            )
    return calls
