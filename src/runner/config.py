"""RunnerConfig: the validated runtime contract.

`RunnerConfig.from_env()` reads the variables in `runner.environment_variables` (CLI flags arrive
as overrides of the same names) and raises `ConfigError` with one line that names the variable
and the fix. Everything is checked here, before the Claude Code CLI starts.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from runner import environment_variables as ev
from runner.errors import ConfigError

DEFAULT_MODEL = "claude-sonnet-4-5"
DEFAULT_TIMEOUT_S = 3600.0
DEFAULT_IDLE_TIMEOUT_S = 3600.0
PermissionMode = Literal["default", "acceptEdits", "plan", "bypassPermissions", "dontAsk", "auto"]
PERMISSION_MODES: tuple[PermissionMode, ...] = (
    "default",
    "acceptEdits",
    "plan",
    "bypassPermissions",
    "dontAsk",
    "auto",
)
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
"""ASCII only: Python's float() and int() also take other scripts' digits (`²`, `١٢`)."""
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@\[\]-]{0,199}")
"""Anthropic ids (claude-sonnet-4-5), Bedrock/Vertex forms (us.anthropic.…-v1:0, …@2025…),
aliases (sonnet, opus[1m]); no spaces, quotes or control characters."""
_CLAUDE_SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
"""A Claude Code session id (a UUID): it names a file, so no dots, slashes or spaces."""
_TRACE_ID = re.compile(r"[0-9a-f]{32}")
ResumeFallback = Literal["fail", "fresh"]
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def parse_bool(name: str, raw: str | None, default: bool = False) -> bool:
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean: set {name} to true or false")


def parse_seconds(name: str, raw: str | None, default: float) -> float | None:
    """Seconds as a positive number; `0` means no limit (None)."""
    if raw is None or not raw.strip():
        return default
    value = float(raw) if _DECIMAL.fullmatch(raw.strip()) else math.nan
    if not math.isfinite(value) or value < 0:
        raise ConfigError(
            f"{name}={raw!r} is not a number of seconds: set {name} to a positive number "
            f"(e.g. {name}=600), or 0 for no limit"
        )
    return None if value == 0 else value


def _parse_positive_int(name: str, raw: str | None) -> int | None:
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or int(text) == 0:
        raise ConfigError(f"{name}={raw!r} is not a positive integer: set {name} to e.g. 20")
    return int(text)


def _parse_usd(name: str, raw: str | None) -> float | None:
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    value = float(text) if _DECIMAL.fullmatch(text) else 0.0
    if not value > 0:
        raise ConfigError(
            f"{name}={raw!r} is not a positive amount of USD: set {name} to e.g. 5 or 0.50"
        )
    return value


def _model(raw: str | None) -> str:
    model = _single_line(ev.LLM_MODEL, raw) or DEFAULT_MODEL
    if not _MODEL_NAME.fullmatch(model):
        raise ConfigError(
            f"{ev.LLM_MODEL}={model[:80]!r} is not a model name: set {ev.LLM_MODEL} to e.g. "
            f"claude-sonnet-4-5 (letters, digits and . _ - : / @ [ ] only)"
        )
    return model


def _permission_mode(raw: str | None, as_root: bool) -> PermissionMode | None:
    text = _single_line(ev.PERMISSION_MODE, raw)
    mode = next((m for m in PERMISSION_MODES if m == text), None)
    if text is not None and mode is None:
        raise ConfigError(
            f"{ev.PERMISSION_MODE}={text!r} is unknown: use one of {', '.join(PERMISSION_MODES)}"
        )
    if mode == "bypassPermissions" and as_root:
        raise ConfigError(
            f"{ev.PERMISSION_MODE}=bypassPermissions is refused by the Claude Code CLI when it "
            f"runs as root: run as a non-root user (the image's user 10001, runAsNonRoot), or "
            f"list the tools in {ev.ALLOWED_TOOLS} instead"
        )
    return mode


def _single_line(name: str, raw: str | None) -> str | None:
    if raw is None:
        return None
    if "\n" in raw or "\r" in raw:
        raise ConfigError(f"{name} contains a line break: set {name} to a single-line value")
    return raw.strip() or None


@dataclass(frozen=True)
class Tenancy:
    """Who the session belongs to; on every span and every stdout event."""

    namespace: str | None = None
    project: str | None = None
    user_id: str | None = None


@dataclass(frozen=True)
class ResumeRequest:
    """IS_RESUME=true: continue an earlier run's conversation (runner.session.resume finds its
    state before the CLI starts)."""

    claude_session_id: str | None = None
    """RESUME_SESSION_ID; None: the workspace record's."""
    previous_trace_id: str | None = None
    """RESUME_TRACE_ID (32 lowercase hex); None: the workspace record's."""
    fallback: ResumeFallback = "fail"
    """RESUME_FALLBACK: what a missing or unreadable state does."""


def resume_request(env: Mapping[str, str]) -> ResumeRequest | None:
    """IS_RESUME and its variables (None: not resuming); ConfigError for a bad value."""
    if not parse_bool(ev.IS_RESUME, env.get(ev.IS_RESUME)):
        for name in (ev.RESUME_SESSION_ID, ev.RESUME_TRACE_ID):
            if _single_line(name, env.get(name)):
                raise ConfigError(
                    f"{name} is set but {ev.IS_RESUME} is not: set {ev.IS_RESUME}=true to "
                    f"continue that session, or unset {name}"
                )
        return None
    session = _single_line(ev.RESUME_SESSION_ID, env.get(ev.RESUME_SESSION_ID))
    if session is not None and not _CLAUDE_SESSION_ID.fullmatch(session):
        raise ConfigError(
            f"{ev.RESUME_SESSION_ID}={session[:80]!r} is not a Claude Code session id: set it "
            f"to the session_id of the earlier run's result (a UUID), or unset it to use the "
            f"workspace record"
        )
    trace = _single_line(ev.RESUME_TRACE_ID, env.get(ev.RESUME_TRACE_ID))
    if trace is not None:
        trace = trace.lower()
        if not _TRACE_ID.fullmatch(trace) or int(trace, 16) == 0:
            raise ConfigError(
                f"{ev.RESUME_TRACE_ID}={trace[:80]!r} is not a trace id: set it to the earlier "
                f"run's 32-hex-digit trace id, or unset it to use the workspace record"
            )
    fallback = (_single_line(ev.RESUME_FALLBACK, env.get(ev.RESUME_FALLBACK)) or "fail").lower()
    if fallback not in ("fail", "fresh"):
        raise ConfigError(
            f"{ev.RESUME_FALLBACK}={fallback[:80]!r} is unknown: set it to fail (exit 2 when the "
            f"state is missing) or fresh (start a new conversation instead)"
        )
    return ResumeRequest(
        claude_session_id=session,
        previous_trace_id=trace,
        fallback="fresh" if fallback == "fresh" else "fail",
    )


@dataclass(frozen=True)
class RunnerConfig:
    session_id: str
    prompt: str | None
    interactive: bool = False
    model: str = DEFAULT_MODEL
    timeout_s: float | None = DEFAULT_TIMEOUT_S
    idle_timeout_s: float | None = DEFAULT_IDLE_TIMEOUT_S
    workspace: Path = field(default_factory=Path.cwd)
    allowed_tools: tuple[str, ...] = ()
    permission_mode: PermissionMode | None = None
    max_turns: int | None = None
    max_budget_usd: float | None = None
    """The cost guard (MAX_BUDGET_USD): the CLI stops the session once its cost passes it."""
    preflight: bool = True
    """Check the model credentials while the CLI starts (RUNNER_PREFLIGHT)."""
    tenancy: Tenancy = field(default_factory=Tenancy)
    model_access: str = "anthropic"
    """`anthropic` (API key or auth token) or `vertex`."""
    cli_env: Mapping[str, str] = field(default_factory=dict)
    """Extra variables for the Claude Code CLI (on top of the inherited environment)."""
    resume: ResumeRequest | None = None
    """IS_RESUME=true: continue an earlier run's conversation."""

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, require_credentials: bool = True
    ) -> RunnerConfig:
        env = dict(os.environ if environ is None else environ)

        session_id = _single_line(ev.SESSION_ID, env.get(ev.SESSION_ID))
        if not session_id:
            raise ConfigError(
                f"{ev.SESSION_ID} is not set: set it to the AgenticSession name "
                f"(e.g. {ev.SESSION_ID}=review-1234) or pass --session-id"
            )
        interactive = parse_bool(ev.INTERACTIVE, env.get(ev.INTERACTIVE))
        prompt = _read_prompt(env)
        if prompt is None and not interactive:
            raise ConfigError(
                f"{ev.PROMPT} is not set: set {ev.PROMPT} (or {ev.PROMPT_FILE}) to the task, "
                f"or set {ev.INTERACTIVE}=true to read messages from stdin"
            )

        permission_mode = _permission_mode(env.get(ev.PERMISSION_MODE), _running_as_root())
        tools_raw = _single_line(ev.ALLOWED_TOOLS, env.get(ev.ALLOWED_TOOLS)) or ""
        allowed_tools = tuple(t.strip() for t in tools_raw.split(",") if t.strip())

        return cls(
            session_id=session_id,
            prompt=prompt,
            interactive=interactive,
            model=_model(env.get(ev.LLM_MODEL)),
            timeout_s=parse_seconds(ev.TIMEOUT, env.get(ev.TIMEOUT), DEFAULT_TIMEOUT_S),
            idle_timeout_s=parse_seconds(
                ev.IDLE_TIMEOUT, env.get(ev.IDLE_TIMEOUT), DEFAULT_IDLE_TIMEOUT_S
            ),
            workspace=_workspace(env.get(ev.WORKSPACE_PATH)),
            allowed_tools=allowed_tools,
            permission_mode=permission_mode,
            max_turns=_parse_positive_int(ev.MAX_TURNS, env.get(ev.MAX_TURNS)),
            max_budget_usd=_parse_usd(ev.MAX_BUDGET_USD, env.get(ev.MAX_BUDGET_USD)),
            preflight=parse_bool(ev.RUNNER_PREFLIGHT, env.get(ev.RUNNER_PREFLIGHT), True),
            tenancy=Tenancy(
                namespace=_single_line(ev.NAMESPACE, env.get(ev.NAMESPACE)),
                project=_single_line(ev.PROJECT_NAME, env.get(ev.PROJECT_NAME)),
                user_id=_single_line(ev.USER_ID, env.get(ev.USER_ID)),
            ),
            model_access=model_access(env) if require_credentials else "anthropic",
            resume=resume_request(env),
        )


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _read_prompt(env: Mapping[str, str]) -> str | None:
    prompt = env.get(ev.PROMPT)
    if prompt is not None and prompt.strip():
        return prompt
    path = env.get(ev.PROMPT_FILE)
    if not path:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigError(
            f"{ev.PROMPT_FILE}={path!r} cannot be read ({reason}): "
            f"point {ev.PROMPT_FILE} at a readable UTF-8 file"
        ) from None
    return text if text.strip() else None


def _workspace(raw: str | None) -> Path:
    path = Path(raw).expanduser() if raw else Path.cwd()
    if not path.is_dir():
        raise ConfigError(
            f"{ev.WORKSPACE_PATH}={str(path)!r} is not a directory: "
            f"create it or point {ev.WORKSPACE_PATH} at an existing directory"
        )
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError:
        raise ConfigError(
            f"{ev.WORKSPACE_PATH}={str(path)!r} is not writable: "
            f"mount a writable volume there (e.g. an emptyDir) or choose another directory"
        ) from None
    return path.resolve()


def model_access(env: Mapping[str, str]) -> str:
    """`anthropic` or `vertex`, from the credentials present; ConfigError when none are."""
    if parse_bool(ev.CLAUDE_CODE_USE_VERTEX, env.get(ev.CLAUDE_CODE_USE_VERTEX)):
        missing = [
            v for v in (ev.ANTHROPIC_VERTEX_PROJECT_ID, ev.CLOUD_ML_REGION) if not env.get(v)
        ]
        if missing:
            raise ConfigError(
                f"{ev.CLAUDE_CODE_USE_VERTEX}=1 but {' and '.join(missing)} not set: "
                f"set {ev.ANTHROPIC_VERTEX_PROJECT_ID} and {ev.CLOUD_ML_REGION} for Vertex AI"
            )
        return "vertex"
    if env.get(ev.ANTHROPIC_API_KEY) or env.get(ev.ANTHROPIC_AUTH_TOKEN):
        return "anthropic"
    raise ConfigError(
        f"no model credentials: set {ev.ANTHROPIC_API_KEY}, or {ev.CLAUDE_CODE_USE_VERTEX}=1 with "
        f"{ev.ANTHROPIC_VERTEX_PROJECT_ID} and {ev.CLOUD_ML_REGION}"
    )
