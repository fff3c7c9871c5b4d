"""RunnerConfig: the validated runtime contract.

`RunnerConfig.from_env()` reads the variables in `runner.environment_variables` (CLI flags arrive
as overrides of the same names) and raises `ConfigError` with one line that names the variable
and the fix. Everything is checked here, before the Claude Code CLI starts.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from runner import environment_variables as ev
from runner.errors import ConfigError

DEFAULT_MODEL = "claude-sonnet-4-5"
DEFAULT_TIMEOUT_S = 3600.0
DEFAULT_IDLE_TIMEOUT_S = 3600.0
PERMISSION_MODES = ("default", "acceptEdits", "plan", "bypassPermissions", "dontAsk", "auto")
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
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ConfigError(
            f"{name}={raw!r} is not a number of seconds: set {name} to a positive number "
            f"(e.g. {name}=600), or 0 for no limit"
        )
    return None if value == 0 else value


def _parse_positive_int(name: str, raw: str | None) -> int | None:
    if raw is None or not raw.strip():
        return None
    if not raw.strip().isdigit() or int(raw) == 0:
        raise ConfigError(f"{name}={raw!r} is not a positive integer: set {name} to e.g. 20")
    return int(raw)


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
class RunnerConfig:
    session_id: str
    prompt: str | None
    interactive: bool = False
    model: str = DEFAULT_MODEL
    timeout_s: float | None = DEFAULT_TIMEOUT_S
    idle_timeout_s: float | None = DEFAULT_IDLE_TIMEOUT_S
    workspace: Path = field(default_factory=Path.cwd)
    allowed_tools: tuple[str, ...] = ()
    permission_mode: str | None = None
    max_turns: int | None = None
    tenancy: Tenancy = field(default_factory=Tenancy)
    model_access: str = "anthropic"
    """`anthropic` (API key or auth token) or `vertex`."""
    cli_env: Mapping[str, str] = field(default_factory=dict)
    """Extra variables for the Claude Code CLI (on top of the inherited environment)."""

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

        permission_mode = _single_line(ev.PERMISSION_MODE, env.get(ev.PERMISSION_MODE))
        if permission_mode is not None and permission_mode not in PERMISSION_MODES:
            raise ConfigError(
                f"{ev.PERMISSION_MODE}={permission_mode!r} is unknown: "
                f"use one of {', '.join(PERMISSION_MODES)}"
            )
        tools_raw = _single_line(ev.ALLOWED_TOOLS, env.get(ev.ALLOWED_TOOLS)) or ""
        allowed_tools = tuple(t.strip() for t in tools_raw.split(",") if t.strip())

        return cls(
            session_id=session_id,
            prompt=prompt,
            interactive=interactive,
            model=_single_line(ev.LLM_MODEL, env.get(ev.LLM_MODEL)) or DEFAULT_MODEL,
            timeout_s=parse_seconds(ev.TIMEOUT, env.get(ev.TIMEOUT), DEFAULT_TIMEOUT_S),
            idle_timeout_s=parse_seconds(
                ev.IDLE_TIMEOUT, env.get(ev.IDLE_TIMEOUT), DEFAULT_IDLE_TIMEOUT_S
            ),
            workspace=_workspace(env.get(ev.WORKSPACE_PATH)),
            allowed_tools=allowed_tools,
            permission_mode=permission_mode,
            max_turns=_parse_positive_int(ev.MAX_TURNS, env.get(ev.MAX_TURNS)),
            tenancy=Tenancy(
                namespace=_single_line(ev.NAMESPACE, env.get(ev.NAMESPACE)),
                project=_single_line(ev.PROJECT_NAME, env.get(ev.PROJECT_NAME)),
                user_id=_single_line(ev.USER_ID, env.get(ev.USER_ID)),
            ),
            model_access=model_access(env) if require_credentials else "anthropic",
        )


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
