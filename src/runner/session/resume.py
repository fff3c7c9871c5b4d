"""Resuming a session (IS_RESUME=true): the state to continue, found before the CLI starts, and
the workspace record each run leaves for the next.

What a resumed run needs (measured with CLI 2.1.332: docs/resume.md):

- the Claude Code session id: RESUME_SESSION_ID, else the workspace record's;
- its transcript, `$CLAUDE_CONFIG_DIR/projects/<any dir>/<id>.jsonl` (CLAUDE_CONFIG_DIR defaults
  to `$HOME/.claude`): the CLI continues the conversation from it (the whole history goes to the
  model) and restores its cumulative cost from its last `cost-state` record. Nothing else under
  the config dir is needed; the cwd may differ.

The baseline: Claude Code's `total_cost_usd`, `model_usage` and `duration_api_ms` on a resumed
run continue from that last `cost-state` record (or from 0 when there is none: a CLI killed with
SIGKILL writes none). Read here before the CLI starts, it is exactly the figure the CLI starts
from, so the ledger (runner.ledger.ledger) takes it off and counts this run's calls only.

The workspace record, `<WORKSPACE_PATH>/.claude-runner/session.json` (written atomically, no
secrets: ids and figures): the Claude Code session id, this run's trace id and root span id,
its status and Claude Code's cumulative figures at its end. Written when the CLI announces the
session (status `running`: a pod killed mid-run still leaves its ids) and at the session's end.

A missing or unreadable state is a ConfigError (exit 2) naming the variable and the fix, unless
RESUME_FALLBACK=fresh asks for a fresh start (one warning).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runner import environment_variables as ev
from runner.accounting.reported import ReportedTotals
from runner.accounting.usage import ModelUsage
from runner.config import RunnerConfig
from runner.errors import ConfigError
from runner.events.types import QueryResult, RunnerEvent, SessionInitialized
from runner.session.types import (
    QueryOutcome,
    QueryStart,
    ResumeInfo,
    SessionOutcome,
    SessionStart,
)

log = logging.getLogger("runner")

RECORD_DIR = ".claude-runner"
RECORD_FILE = "session.json"
RECORD_SCHEMA = 1
COST_STATE = "cost-state"
"""The transcript record the CLI appends at a clean exit with its cumulative figures."""
NO_CONVERSATION = "No conversation found with session ID"
"""What the CLI says (in its error result, raised by the SDK as ResultError) for an unknown id."""


def record_path(workspace: Path) -> Path:
    return workspace / RECORD_DIR / RECORD_FILE


def config_dir(environ: Mapping[str, str]) -> Path:
    """Where the CLI keeps its state: CLAUDE_CONFIG_DIR, else `$HOME/.claude`."""
    explicit = environ.get(ev.CLAUDE_CONFIG_DIR)
    if explicit:
        return Path(explicit).expanduser()
    home = environ.get("HOME")
    return (Path(home) if home else Path.home()) / ".claude"


@dataclass(frozen=True, kw_only=True)
class WorkspaceRecord:
    """What a run leaves in the workspace for the next one (`record_path`)."""

    session_id: str
    """SESSION_ID (the platform's session; the Langfuse session)."""
    claude_session_id: str
    trace_id: str | None = None
    span_id: str | None = None
    """This run's root span (the earlier run's, to the next)."""
    status: str = "running"
    updated_at: str = ""
    resumed_from_trace_id: str | None = None
    claude_code: ReportedTotals | None = None
    """Claude Code's cumulative figures at the run's end (the whole conversation's)."""
    run_cost_usd: float | None = None
    """This run's calls, as the ledger priced them."""
    run_reported_cost_usd: float | None = None
    """Claude Code's figure for this run (its cumulative one less the earlier runs')."""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema": RECORD_SCHEMA,
            "session_id": self.session_id,
            "claude_session_id": self.claude_session_id,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "status": self.status,
            "updated_at": self.updated_at,
            "resumed_from_trace_id": self.resumed_from_trace_id,
            "claude_code": None if self.claude_code is None else self.claude_code.as_dict(),
            "run_cost_usd": _usd(self.run_cost_usd),
            "run_reported_cost_usd": _usd(self.run_reported_cost_usd),
        }
        return out

    @classmethod
    def from_dict(cls, raw: object) -> WorkspaceRecord | None:
        if not isinstance(raw, dict):
            return None
        claude = raw.get("claude_session_id")
        if not isinstance(claude, str) or not claude:
            return None

        def text(key: str) -> str | None:
            value = raw.get(key)
            return value if isinstance(value, str) and value else None

        def number(key: str) -> float | None:
            value = raw.get(key)
            return float(value) if isinstance(value, int | float) else None

        figures = raw.get("claude_code")
        return cls(
            session_id=text("session_id") or "",
            claude_session_id=claude,
            trace_id=text("trace_id"),
            span_id=text("span_id"),
            status=text("status") or "",
            updated_at=text("updated_at") or "",
            resumed_from_trace_id=text("resumed_from_trace_id"),
            claude_code=ReportedTotals.from_dict(figures) if isinstance(figures, dict) else None,
            run_cost_usd=number("run_cost_usd"),
            run_reported_cost_usd=number("run_reported_cost_usd"),
        )


def read_record(workspace: Path) -> WorkspaceRecord | None:
    """The workspace record; None when there is none. ConfigError when it cannot be read."""
    path = record_path(workspace)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{ev.IS_RESUME}=true but the workspace record {str(path)!r} cannot be read "
            f"({_reason(exc)}): restore {ev.WORKSPACE_PATH} as the earlier run left it, or set "
            f"{ev.RESUME_SESSION_ID}"
        ) from None
    try:
        record = WorkspaceRecord.from_dict(json.loads(text))
    except ValueError:
        record = None
    if record is None:
        raise ConfigError(
            f"{ev.IS_RESUME}=true but the workspace record {str(path)!r} is not a runner "
            f"record (no claude_session_id): set {ev.RESUME_SESSION_ID} to the session to continue"
        )
    return record


def write_record(workspace: Path, record: WorkspaceRecord) -> bool:
    """Write the record atomically (a temporary file renamed over it). Never raises: a failure
    is one warning (the next resume then needs RESUME_SESSION_ID)."""
    path = record_path(workspace)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".session.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(record.as_dict(), handle, indent=1, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        log.warning(
            "could not write the workspace record %s (%s): a resumed run will need %s",
            path,
            _reason(exc),
            ev.RESUME_SESSION_ID,
        )
        return False
    return True


def find_transcript(directory: Path, claude_session_id: str) -> Path | None:
    """`<config dir>/projects/<any dir>/<id>.jsonl`, as the CLI finds it (whatever the cwd)."""
    projects = directory / "projects"
    try:
        found = sorted(p for p in projects.glob(f"*/{claude_session_id}.jsonl") if p.is_file())
    except OSError:
        return None
    if not found:
        return None
    return max(found, key=lambda p: p.stat().st_mtime)


def transcript_totals(path: Path) -> ReportedTotals:
    """Claude Code's cumulative figures as the CLI will restore them: the transcript's last
    `cost-state` record (zero when there is none). OSError when it cannot be read."""
    last: dict[str, Any] | None = None
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if COST_STATE not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("type") == COST_STATE:
                last = record
    return ReportedTotals() if last is None else ReportedTotals.from_cost_state(last)


@dataclass(frozen=True, kw_only=True)
class ResumeState:
    """What a resumed run continues: found and checked before the CLI starts."""

    info: ResumeInfo
    baseline: ReportedTotals = field(default_factory=ReportedTotals)
    transcript: Path | None = None
    record: WorkspaceRecord | None = None


def resolve(config: RunnerConfig, environ: Mapping[str, str]) -> ResumeState | None:
    """The state IS_RESUME asks to continue; None when not resuming (or RESUME_FALLBACK=fresh
    and the state is missing). ConfigError (one line: the variable and the fix) otherwise."""
    request = config.resume
    if request is None:
        return None
    try:
        return _resolve(config, environ)
    except ConfigError as exc:
        if request.fallback != "fresh":
            raise
        log.warning("%s; %s=fresh: starting a new conversation", exc, ev.RESUME_FALLBACK)
        return None


def _resolve(config: RunnerConfig, environ: Mapping[str, str]) -> ResumeState:
    request = config.resume
    assert request is not None
    record = read_record(config.workspace)
    claude_id = request.claude_session_id or (record.claude_session_id if record else None)
    if claude_id is None:
        raise ConfigError(
            f"{ev.IS_RESUME}=true but {ev.RESUME_SESSION_ID} is not set and there is no "
            f"workspace record at {str(record_path(config.workspace))!r}: set "
            f"{ev.RESUME_SESSION_ID} to the Claude Code session id to continue, or restore the "
            f"workspace volume"
        )
    if record is not None and record.claude_session_id != claude_id:
        record = None  # another conversation's record: its ids and figures are not ours
    directory = config_dir(environ)
    transcript = find_transcript(directory, claude_id)
    if transcript is None:
        raise ConfigError(
            f"{ev.IS_RESUME}=true but the transcript of Claude Code session {claude_id} is not "
            f"under {str(directory / 'projects')!r}: restore {ev.CLAUDE_CONFIG_DIR} (at least "
            f"projects/*/{claude_id}.jsonl) from the earlier run's volume"
        )
    try:
        baseline = transcript_totals(transcript)
    except OSError as exc:
        raise ConfigError(
            f"{ev.IS_RESUME}=true but the transcript {str(transcript)!r} cannot be read "
            f"({_reason(exc)}): restore {ev.CLAUDE_CONFIG_DIR} readable by the runner's user"
        ) from None
    _check_against_record(baseline, record)
    trace_id = request.previous_trace_id or (record.trace_id if record else None)
    span_id = record.span_id if record is not None and record.trace_id == trace_id else None
    info = ResumeInfo(
        claude_session_id=claude_id,
        previous_trace_id=trace_id,
        previous_span_id=span_id,
        baseline_cost_usd=baseline.cost_usd,
        baseline_source="transcript" if not baseline.empty else "none",
    )
    log.info(
        "resuming Claude Code session %s (transcript %s); Claude Code's figures start from $%.6f",
        claude_id,
        transcript,
        baseline.cost_usd,
    )
    return ResumeState(info=info, baseline=baseline, transcript=transcript, record=record)


def _check_against_record(baseline: ReportedTotals, record: WorkspaceRecord | None) -> None:
    """The CLI restores its totals from the transcript only: when the earlier run's end is not
    in it (the CLI was killed), Claude Code's figures leave that run out. Said once."""
    if record is None or record.claude_code is None:
        return
    missing = record.claude_code.cost_usd - baseline.cost_usd
    if missing > 1e-9:
        log.warning(
            "the transcript's cost record ($%.6f) is behind the workspace record's ($%.6f): the "
            "earlier CLI did not exit cleanly, and Claude Code's figures now leave out $%.6f "
            "(this run's own figures are unaffected)",
            baseline.cost_usd,
            record.claude_code.cost_usd,
            missing,
        )


class WorkspaceRecorder:
    """A SessionObserver that keeps the workspace record: when the CLI announces the session,
    and at its end. `trace_id`/`span_id`: this run's trace and root span (None: no telemetry)."""

    def __init__(
        self,
        workspace: Path,
        session_id: str,
        *,
        trace_id: str | None = None,
        span_id: str | None = None,
        resume: ResumeState | None = None,
    ) -> None:
        self.workspace = workspace
        self.session_id = session_id
        self.trace_id = trace_id
        self.span_id = span_id
        self.resume = resume
        self._claude_id: str | None = None
        self._models: dict[str, ModelUsage] | None = None
        self._cost: float | None = None
        self.written = 0

    def on_session_start(self, event: SessionStart) -> None:
        pass

    def on_query_start(self, event: QueryStart) -> None:
        pass

    def on_event(self, event: RunnerEvent) -> None:
        if isinstance(event, SessionInitialized) and event.sdk_session_id:
            first = self._claude_id is None
            self._claude_id = event.sdk_session_id
            if first:
                self._write("running", None)
        elif isinstance(event, QueryResult):
            if event.sdk_session_id:
                self._claude_id = event.sdk_session_id
            if event.total_cost_usd is not None:
                self._cost = event.total_cost_usd
            if event.model_usage:
                self._models = dict(event.model_usage)

    def on_query_end(self, event: QueryOutcome) -> None:
        pass

    def on_session_end(self, event: SessionOutcome) -> None:
        if self._claude_id is not None:  # the CLI took the conversation on: the next continues it
            self._write(event.status, event)

    def _write(self, status: str, outcome: SessionOutcome | None) -> None:
        assert self._claude_id is not None
        baseline = self.resume.baseline if self.resume is not None else ReportedTotals()
        totals = None
        if self._cost is not None or self._models is not None:
            totals = ReportedTotals(
                cost_usd=self._cost if self._cost is not None else baseline.cost_usd,
                models=self._models if self._models is not None else dict(baseline.models),
            )
        elif self.resume is not None:
            totals = baseline
        record = WorkspaceRecord(
            session_id=self.session_id,
            claude_session_id=self._claude_id,
            trace_id=self.trace_id,
            span_id=self.span_id,
            status=status,
            updated_at=datetime.fromtimestamp(time.time(), UTC).isoformat(timespec="seconds"),
            resumed_from_trace_id=None
            if self.resume is None
            else self.resume.info.previous_trace_id,
            claude_code=totals,
            run_cost_usd=None if outcome is None else outcome.cost_usd,
            run_reported_cost_usd=None if outcome is None else outcome.figures.reported_cost_usd,
        )
        if write_record(self.workspace, record):
            self.written += 1


def trace_ids(traceparent: str | None) -> tuple[str | None, str | None]:
    """This run's trace id and root span id, from the TRACEPARENT telemetry gives the CLI (the
    session span's own ids: runner.otel.telemetry); (None, None) without telemetry."""
    parts = (traceparent or "").split("-")
    if len(parts) != 4 or len(parts[1]) != 32 or len(parts[2]) != 16:
        return None, None
    return parts[1], parts[2]


def is_missing_conversation(exc: BaseException) -> bool:
    """The SDK's error for a resume whose session the CLI does not find."""
    return NO_CONVERSATION in str(exc)


def _usd(value: float | None) -> float | None:
    return None if value is None else round(value, 12)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__
