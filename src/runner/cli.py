"""`claude-runner`: the command line. Parses flags, sets up logging on stderr, maps outcomes to
exit codes. Flags are overrides of the environment variables of the same meaning."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

from runner import environment_variables as ev
from runner._version import __version__
from runner.errors import ConfigError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Run Claude Agent SDK sessions, observable with OpenTelemetry.",
    pretty_exceptions_enable=False,
)
log = logging.getLogger("runner")
QUIET_LIBRARIES = ("claude_agent_sdk", "httpx", "urllib3", "asyncio", "opentelemetry", "langfuse")
"""Libraries whose INFO lines stay out of a session's stderr unless RUNNER_LOG_LEVEL=DEBUG."""


def configure_logging(environ: Mapping[str, str] | None = None) -> None:
    env = os.environ if environ is None else environ
    level_name = (env.get(ev.RUNNER_LOG_LEVEL) or "INFO").upper()
    level = logging.getLevelName(level_name)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level if isinstance(level, int) else logging.INFO)
    # Quiet by default: third-party INFO lines (the SDK's "Using bundled Claude Code CLI: ...")
    # reach stderr only with RUNNER_LOG_LEVEL=DEBUG; their warnings always do.
    debug = isinstance(level, int) and level <= logging.DEBUG
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET if debug else logging.WARNING)
    if not isinstance(level, int):
        log.warning("%s=%r is unknown; using INFO", ev.RUNNER_LOG_LEVEL, level_name)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"claude-runner {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Run Claude Agent SDK sessions, observable with OpenTelemetry."""


def execute(overrides: Mapping[str, str]) -> int:
    """Run one session with the environment plus `overrides`; return the exit code."""
    from runner.config import RunnerConfig
    from runner.launcher import run_session

    environ = {**os.environ, **overrides}
    configure_logging(environ)
    try:
        config = RunnerConfig.from_env(environ)
    except ConfigError as exc:
        typer.echo(f"claude-runner: {exc}", err=True)
        return ConfigError.exit_code

    import dataclasses

    import claude_agent_sdk  # noqa: F401 - first: telemetry setup must not delay the CLI's start

    from runner.otel import setup_telemetry
    from runner.output.stdout_events import EventWriter
    from runner.session.resume import WorkspaceRecorder, resolve, trace_ids

    try:
        resume = resolve(config, environ)  # before the CLI starts: a missing state is exit 2
    except ConfigError as exc:
        typer.echo(f"claude-runner: {exc}", err=True)
        return ConfigError.exit_code
    telemetry = setup_telemetry(environ)
    config = dataclasses.replace(config, cli_env={**config.cli_env, **telemetry.cli_env})
    trace_id, span_id = trace_ids(telemetry.cli_env.get("TRACEPARENT"))
    recorder = WorkspaceRecorder(
        config.workspace, config.session_id, trace_id=trace_id, span_id=span_id, resume=resume
    )
    trace = telemetry.trace_fields()
    if trace:
        urls = trace.get("trace_urls") or {}
        log.info(
            "session %s: trace %s%s",
            config.session_id,
            trace["trace_id"],
            "".join(f" {name}: {url}" for name, url in dict(urls).items()),  # type: ignore[call-overload]
        )
    outcome = run_session(
        config,
        EventWriter(trace=telemetry.trace_fields),
        [*telemetry.observers, recorder],
        cli_relay=telemetry.relay,
        on_feedback=telemetry.feedback if telemetry.scores is not None else None,
        resume=resume,
    )
    view = telemetry.trace_view()
    if view:
        sys.stderr.write(view)
    telemetry.shutdown()
    if outcome.ok:
        log.info(
            "session %s finished: %d queries, %d turns, $%.6f, %.1fs",
            config.session_id,
            len(outcome.queries),
            outcome.num_turns,
            outcome.cost_usd,
            outcome.duration_ms / 1000,
        )
    else:
        log.error(
            "session %s ended: %s: %s", config.session_id, outcome.status, outcome.error_message
        )
    return outcome.exit_code


@app.command()
def run(
    session_id: Annotated[str | None, typer.Option(help=f"Overrides {ev.SESSION_ID}.")] = None,
    prompt: Annotated[str | None, typer.Option(help=f"Overrides {ev.PROMPT}.")] = None,
    prompt_file: Annotated[Path | None, typer.Option(help=f"Overrides {ev.PROMPT_FILE}.")] = None,
    interactive: Annotated[
        bool | None, typer.Option("--interactive/--batch", help=f"Overrides {ev.INTERACTIVE}.")
    ] = None,
    model: Annotated[str | None, typer.Option(help=f"Overrides {ev.LLM_MODEL}.")] = None,
    timeout: Annotated[str | None, typer.Option(help=f"Overrides {ev.TIMEOUT} (s).")] = None,
    idle_timeout: Annotated[
        str | None, typer.Option(help=f"Overrides {ev.IDLE_TIMEOUT} (s).")
    ] = None,
    workspace: Annotated[Path | None, typer.Option(help=f"Overrides {ev.WORKSPACE_PATH}.")] = None,
    allowed_tools: Annotated[
        str | None, typer.Option(help=f"Overrides {ev.ALLOWED_TOOLS} (comma-separated).")
    ] = None,
    permission_mode: Annotated[
        str | None, typer.Option(help=f"Overrides {ev.PERMISSION_MODE}.")
    ] = None,
    max_turns: Annotated[str | None, typer.Option(help=f"Overrides {ev.MAX_TURNS}.")] = None,
    max_budget_usd: Annotated[
        str | None, typer.Option(help=f"Overrides {ev.MAX_BUDGET_USD} (USD).")
    ] = None,
    namespace: Annotated[str | None, typer.Option(help=f"Overrides {ev.NAMESPACE}.")] = None,
    project_name: Annotated[str | None, typer.Option(help=f"Overrides {ev.PROJECT_NAME}.")] = None,
    user_id: Annotated[str | None, typer.Option(help=f"Overrides {ev.USER_ID}.")] = None,
    log_level: Annotated[str | None, typer.Option(help=f"Overrides {ev.RUNNER_LOG_LEVEL}.")] = None,
    preflight: Annotated[
        bool | None,
        typer.Option(
            "--preflight/--no-preflight",
            help=f"Overrides {ev.RUNNER_PREFLIGHT}: check the model credentials first.",
        ),
    ] = None,
    resume: Annotated[
        bool | None,
        typer.Option(
            "--resume/--fresh",
            help=f"Overrides {ev.IS_RESUME}: continue the earlier run's conversation.",
        ),
    ] = None,
    resume_session_id: Annotated[
        str | None, typer.Option("--resume-id", help=f"Overrides {ev.RESUME_SESSION_ID}.")
    ] = None,
    resume_trace_id: Annotated[
        str | None, typer.Option("--resume-trace", help=f"Overrides {ev.RESUME_TRACE_ID}.")
    ] = None,
    resume_fallback: Annotated[
        str | None, typer.Option(help=f"Overrides {ev.RESUME_FALLBACK} (fail or fresh).")
    ] = None,
) -> None:
    """Run one session from the environment (the Job contract).

    Events go to stdout as JSON lines, logs to stderr. Exit codes: 0 ok, 1 failed, 2 bad
    config, 3 model/API error, 4 timeout, 5 idle timeout, 6 budget exceeded, 130/143
    interrupted.
    """
    flags = {
        ev.SESSION_ID: session_id,
        ev.PROMPT: prompt,
        ev.PROMPT_FILE: None if prompt_file is None else str(prompt_file),
        ev.INTERACTIVE: None if interactive is None else str(interactive).lower(),
        ev.LLM_MODEL: model,
        ev.TIMEOUT: timeout,
        ev.IDLE_TIMEOUT: idle_timeout,
        ev.WORKSPACE_PATH: None if workspace is None else str(workspace),
        ev.ALLOWED_TOOLS: allowed_tools,
        ev.PERMISSION_MODE: permission_mode,
        ev.MAX_TURNS: max_turns,
        ev.MAX_BUDGET_USD: max_budget_usd,
        ev.NAMESPACE: namespace,
        ev.PROJECT_NAME: project_name,
        ev.USER_ID: user_id,
        ev.RUNNER_LOG_LEVEL: log_level,
        ev.RUNNER_PREFLIGHT: None if preflight is None else str(preflight).lower(),
        ev.IS_RESUME: None if resume is None else str(resume).lower(),
        ev.RESUME_SESSION_ID: resume_session_id,
        ev.RESUME_TRACE_ID: resume_trace_id,
        ev.RESUME_FALLBACK: resume_fallback,
    }
    raise typer.Exit(execute({k: v for k, v in flags.items() if v is not None}))


@app.command()
def score(
    trace_id: Annotated[
        str, typer.Option(help="The session's trace: session_start's trace_id (32 hex).")
    ],
    name: Annotated[str, typer.Option(help="The score's name, e.g. user-feedback.")],
    value: Annotated[str, typer.Option(help="The value: a number, true/false, or text.")],
    data_type: Annotated[
        str | None,
        typer.Option(help="NUMERIC, CATEGORICAL, BOOLEAN, TEXT or CORRECTION (else inferred)."),
    ] = None,
    comment: Annotated[str | None, typer.Option(help="Why (redacted).")] = None,
    observation_id: Annotated[
        str | None, typer.Option(help="A span in the trace (16 hex), e.g. a query's.")
    ] = None,
) -> None:
    """Write a score on a finished session's trace, to every backend the environment
    configures (the same variables as `run`): Langfuse's Scores API, MLflow's assessments.

    Exit codes: 0 delivered everywhere, 1 not delivered somewhere, 2 bad score or no backend.
    """
    from runner.otel.export.score_delivery import submit_score
    from runner.scores import ScoreError

    configure_logging()
    parsed: bool | float | str = value
    if data_type is None or data_type.upper() in ("NUMERIC", "BOOLEAN"):
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            parsed = lowered == "true"
        else:
            with contextlib.suppress(ValueError):
                parsed = float(value)
    try:
        reports = submit_score(
            trace_id,
            name,
            parsed,
            data_type=data_type,
            comment=comment,
            observation_id=observation_id,
        )
    except ScoreError as exc:
        typer.echo(f"claude-runner: score {exc}", err=True)
        raise typer.Exit(2) from None
    if not reports:
        typer.echo(
            "claude-runner: no score backend is configured: set the Langfuse keys (and "
            "LANGFUSE_BASE_URL) or OBSERVABILITY_BACKENDS=mlflow with MLFLOW_TRACKING_URI",
            err=True,
        )
        raise typer.Exit(2)
    raise typer.Exit(0 if all(r.not_delivered == 0 for r in reports) else 1)


@app.command()
def demo(
    keep: Annotated[
        bool, typer.Option(help="Keep the demo's temporary workspace and home.")
    ] = False,
) -> None:
    """Run a short scripted session offline, no API key, no network.

    The real SDK and Claude Code CLI answer to a scripted Messages API server on 127.0.0.1.
    """
    from runner.offline import DEMO_PROMPT, OfflineMessagesServer, demo_script, offline_environment

    root = Path(tempfile.mkdtemp(prefix="claude-runner-demo-"))
    workspace = root / "workspace"
    workspace.mkdir()
    with OfflineMessagesServer(demo_script()) as server:
        overrides = {
            **offline_environment(server.url, root),
            ev.SESSION_ID: os.environ.get(ev.SESSION_ID) or "demo-session",
            ev.PROMPT: DEMO_PROMPT,
            ev.WORKSPACE_PATH: str(workspace),
            ev.ALLOWED_TOOLS: "Bash",
            ev.TIMEOUT: "120",
            "RUNNER_TRACE_VIEW": os.environ.get("RUNNER_TRACE_VIEW", "true"),
        }
        os.environ.update(overrides)  # the CLI child inherits the process environment
        code = execute(overrides)
        served = len(server.message_calls)
    log.info("demo: the local server answered %d LLM calls; files under %s", served, root)
    if not keep:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
    raise typer.Exit(code)


@app.command()
def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Telemetry problems fail the check too.")
    ] = False,
) -> None:
    """Check what a session needs; exit 0 only when a session can run as configured.

    Credentials (checked against the model endpoint, no model call), the Claude Code CLI, the
    workspace, the telemetry endpoint and keys (a test trace is sent), read from the same
    environment as `run`. Telemetry problems are warnings unless --strict.
    """
    from runner.doctor import as_json as to_json
    from runner.doctor import render, run_checks, verdict

    configure_logging()
    logging.getLogger().setLevel(logging.CRITICAL)  # the checks say it all: no library lines
    checks = run_checks(strict=strict)
    typer.echo(to_json(checks) if as_json else render(checks))
    raise typer.Exit(0 if verdict(checks) else 1)


@app.command()
def view(
    file: Annotated[
        Path, typer.Argument(help="A saved stdout event log (JSON lines), or - for stdin.")
    ],
) -> None:
    """Show a finished session as a tree, from its saved stdout events.

    Queries, tools, durations, tokens and cost; e.g. `kubectl logs job/NAME > session.jsonl`.
    """
    from runner.output.view import load, render

    try:
        lines = sys.stdin if str(file) == "-" else file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        typer.echo(f"claude-runner: cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    events = load(lines)
    if not events:
        typer.echo(f"claude-runner: {file} holds no session events (JSON lines)", err=True)
        raise typer.Exit(2)
    typer.echo(render(events, color=sys.stdout.isatty()), nl=False)


def entrypoint() -> None:
    """The console script. After the command, exit at once: stdout, stderr and telemetry are
    already flushed and shut down (telemetry within RUNNER_EXIT_BUDGET), and letting the
    interpreter finalise the ~650 modules the SDK loads costs ~0.3 s (measured)."""
    code: int = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
    os._exit(code)
