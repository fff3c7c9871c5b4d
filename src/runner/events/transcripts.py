"""Read a subagent's per-call usage from its Claude Code transcript (JSON lines).

The SDK stream shows a subagent's calls only with `message_start` usage snapshots (output tokens
are a placeholder). The transcript, `.../subagents/agent-<id>.jsonl`, has each call's final usage
(`assistant` records; a call's content blocks may be several records, the last one counts) and
when its request went out (`api-request` records).

Complete: its last assistant record ends the subagent's turn (a stop reason other than
`tool_use`) and no request was sent after it. Measured (CLI 2.1.33x): that record may be written
just after `SubagentStop`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from runner.accounting.usage import Usage

log = logging.getLogger("runner")
MAX_TRANSCRIPT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptCall:
    message_id: str
    model: str | None
    usage: Usage
    stop_reason: str | None
    requested_ns: int | None
    answered_ns: int | None
    text: str = ""
    """The call's text output (its text blocks; a subagent's final answer is its last call's)."""
    tool_use_ids: tuple[str, ...] = ()
    """The tools it asked for (a nested subagent's calls show nowhere else)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Transcript:
    calls: dict[str, TranscriptCall] = field(default_factory=dict)
    """By message id, in the order they were made."""
    complete: bool = False


def _ns(timestamp: object) -> int | None:
    if not isinstance(timestamp, str):
        return None
    try:
        return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1e9)
    except ValueError:
        return None


def read_transcript(path: str | Path) -> Transcript:
    """The calls a transcript holds. Empty, and complete (nothing more will come from it), when
    the file is missing, too large or unreadable."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_TRANSCRIPT_BYTES:
            log.debug("transcript %s too large; using streamed usage", file)
            return Transcript(complete=True)
        lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return Transcript(complete=True)
    calls: dict[str, TranscriptCall] = {}
    requested: int | None = None
    in_flight = False
    last_stop: str | None = None
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
            in_flight = True
        elif kind == "assistant":
            message = record.get("message")
            if not isinstance(message, dict) or not isinstance(message.get("id"), str):
                continue
            message_id = message["id"]
            earlier = calls.get(message_id)
            stop = message.get("stop_reason")
            last_stop = stop if isinstance(stop, str) else None
            in_flight = False
            text = "\n".join(
                block["text"]
                for block in message.get("content") or ()
                if isinstance(block, dict)
                and block.get("type") == "text"
                and isinstance(block.get("text"), str)
            )
            if earlier is not None and earlier.text:
                text = f"{earlier.text}\n{text}" if text else earlier.text
            tools = tuple(
                block["id"]
                for block in message.get("content") or ()
                if isinstance(block, dict)
                and block.get("type") == "tool_use"
                and isinstance(block.get("id"), str)
            )
            calls[message_id] = TranscriptCall(
                text=text,
                tool_use_ids=(earlier.tool_use_ids if earlier else ()) + tools,
                message_id=message_id,
                model=message.get("model") if isinstance(message.get("model"), str) else None,
                usage=Usage.from_dict(message.get("usage")),
                stop_reason=last_stop,
                requested_ns=earlier.requested_ns if earlier else requested,
                answered_ns=_ns(record.get("timestamp")),
            )
    complete = bool(calls) and not in_flight and last_stop not in (None, "tool_use")
    return Transcript(calls=calls, complete=complete)
