"""`claude-runner doctor`: check what a session needs, from the same configuration as `run`.

Each check is ✓, ✗ (a session cannot run as configured) or ! (a warning), with the fix. Exit 0
only when everything a session needs is in place. The model credentials are checked against the
model endpoint with the same request a session's pre-flight makes (runner.session.preflight).
Telemetry
problems are warnings, because telemetry never fails a session; `--strict` makes them failures.
No secret is ever printed, and no library's own log line reaches the output.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse
from urllib.request import Request, urlopen

from runner import environment_variables as ev
from runner.config import (
    DEFAULT_IDLE_TIMEOUT_S,
    DEFAULT_TIMEOUT_S,
    model_access,
    parse_bool,
    parse_seconds,
)
from runner.errors import ConfigError

NETWORK_TIMEOUT_S = 5.0


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True
    """A failed optional check (telemetry not configured) does not fail the doctor."""


def run_checks(environ: Mapping[str, str] | None = None, *, strict: bool = False) -> list[Check]:
    """Every check; telemetry checks are required only with `strict`."""
    env = dict(os.environ if environ is None else environ)
    checks = [_config(env), _credentials(env), _workspace(env), _cli()]
    if (env.get(ev.IS_RESUME) or "").strip().lower() not in ("", "0", "false", "no", "off"):
        checks.append(_resume(env))  # IS_RESUME set: its state must be there
    for check in _telemetry(env):
        check.required = check.required and strict
        checks.append(check)
    return checks


def verdict(checks: list[Check]) -> bool:
    return all(c.ok for c in checks if c.required)


def render(checks: list[Check]) -> str:
    lines = []
    for c in checks:
        mark = "✓" if c.ok else ("✗" if c.required else "!")
        line = f"{mark} {c.name}: {c.detail}"
        if not c.ok and c.fix:
            line += f"\n    fix: {c.fix}"
        lines.append(line)
    ok = verdict(checks)
    lines.append("ready: a session can run" if ok else "not ready: fix the ✗ lines above")
    return "\n".join(lines)


def as_json(checks: list[Check]) -> str:
    return json.dumps({"ok": verdict(checks), "checks": [asdict(c) for c in checks]}, indent=2)


# --- session checks ---------------------------------------------------------------------------


def _config(env: Mapping[str, str]) -> Check:
    try:
        parse_seconds(ev.TIMEOUT, env.get(ev.TIMEOUT), DEFAULT_TIMEOUT_S)
        parse_seconds(ev.IDLE_TIMEOUT, env.get(ev.IDLE_TIMEOUT), DEFAULT_IDLE_TIMEOUT_S)
        parse_bool(ev.INTERACTIVE, env.get(ev.INTERACTIVE))
    except ConfigError as exc:
        return Check("session settings", False, str(exc))
    missing = [v for v in (ev.SESSION_ID,) if not env.get(v)]
    detail = "TIMEOUT, IDLE_TIMEOUT and INTERACTIVE parse"
    if missing:
        detail += f" ({', '.join(missing)} is set per session by the operator)"
    return Check("session settings", True, detail)


def _credentials(env: Mapping[str, str]) -> Check:
    from runner.session.preflight import check_model_access

    try:
        mode = model_access(env)
    except ConfigError as exc:
        problem, _, fix = str(exc).partition(": ")
        return Check("model credentials", False, problem, fix)
    if mode == "vertex":
        return Check("model credentials", True, "Vertex AI (project and region set; not checked)")
    result = check_model_access(env)
    if result.fatal:
        problem, _, fix = result.message.partition("): ")
        return Check("model credentials", False, problem + ")", fix)
    if result.verdict == "ok":
        return Check("model credentials", True, f"{result.message} (value not shown)")
    name = ev.ANTHROPIC_API_KEY if env.get(ev.ANTHROPIC_API_KEY) else ev.ANTHROPIC_AUTH_TOKEN
    return Check(
        "model credentials",
        False,
        f"{name} is set but could not be verified: {result.message}",
        "a proxy without /v1/models is fine; otherwise check ANTHROPIC_BASE_URL",
        required=False,
    )


def _resume(env: Mapping[str, str]) -> Check:
    """IS_RESUME=true: the state to continue is there (the same resolution `run` makes)."""
    from runner.config import RunnerConfig, resume_request
    from runner.session.resume import resolve

    try:
        request = resume_request(env)
        workspace = Path(env.get(ev.WORKSPACE_PATH) or Path.cwd())
        config = RunnerConfig(session_id="doctor", prompt=None, workspace=workspace, resume=request)
        state = resolve(config, env)
    except ConfigError as exc:
        problem, _, fix = str(exc).partition(": ")
        return Check("resume", False, problem, fix)
    if state is None:
        return Check("resume", True, f"state missing; {ev.RESUME_FALLBACK}=fresh starts anew")
    info = state.info
    detail = (
        f"Claude Code session {info.claude_session_id} ({state.transcript}); Claude Code's "
        f"figures continue from ${info.baseline_cost_usd:.6f}"
    )
    if info.previous_trace_id:
        detail += f"; links to trace {info.previous_trace_id}"
    return Check("resume", True, detail)


def _workspace(env: Mapping[str, str]) -> Check:
    path = Path(env.get(ev.WORKSPACE_PATH) or Path.cwd())
    probe = path / f".claude-runner-doctor-{os.getpid()}"
    try:
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        return Check(
            "workspace",
            False,
            f"{path} is not writable ({exc.strerror or type(exc).__name__})",
            f"mount a writable volume at {path} or set {ev.WORKSPACE_PATH}",
        )
    return Check("workspace", True, f"{path} is writable")


def _cli() -> Check:
    try:
        import claude_agent_sdk
    except ImportError:
        return Check(
            "Claude Code CLI",
            False,
            "claude-agent-sdk is not installed",
            "pip install claude-agent-sdk",
        )
    bundled = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"
    if not bundled.exists():
        return Check(
            "Claude Code CLI",
            False,
            f"not found at {bundled}",
            "reinstall claude-agent-sdk (its wheel bundles the CLI)",
        )
    try:
        done = subprocess.run(
            [str(bundled), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check(
            "Claude Code CLI",
            False,
            f"{bundled} does not run ({type(exc).__name__})",
            "check the image's architecture and glibc",
        )
    version = done.stdout.strip() or done.stderr.strip()[:200]
    if done.returncode != 0:
        return Check("Claude Code CLI", False, f"--version failed: {version}", "reinstall")
    return Check("Claude Code CLI", True, f"{version} ({bundled})")


# --- telemetry checks -------------------------------------------------------------------------


def _telemetry(env: Mapping[str, str]) -> list[Check]:
    from runner.otel.export.settings import TelemetrySettings

    settings = TelemetrySettings.from_env(env)
    checks: list[Check] = []
    for warning in settings.warnings:
        problem, _, fix = warning.partition(": ")
        checks.append(Check("telemetry configuration", False, problem, fix or warning))
    if settings.mode == "off":
        if not checks:  # off by choice; a bad value already said why it is off
            checks.append(Check("telemetry", True, "off (OTEL_SDK_DISABLED or TELEMETRY_MODE=off)"))
        return checks
    target = settings.langfuse
    if settings.mode == "langfuse-sdk" or "langfuse" in settings.traces:
        if target is None:
            return checks
        label = "Langfuse SDK" if settings.mode == "langfuse-sdk" else "Langfuse (OTLP)"
        checks.append(Check("telemetry", True, f"{label} → {target.traces_endpoint}"))
        reach = _reachable(target.base_url)
        checks.append(reach)
        if reach.ok:
            checks.append(_langfuse_keys(target.base_url, target.public_key, target.secret_key))
            checks.append(_test_span(target.traces_endpoint, target.headers))
        return checks
    if "otlp" in settings.traces:
        endpoint = settings.otlp_traces_endpoint  # the exporter path's own resolution
        if settings.protocol == "grpc":
            checks.append(Check("telemetry", True, f"OTLP/gRPC → {endpoint}"))
            checks.append(_reachable(endpoint))
            return checks
        checks.append(Check("telemetry", True, f"OTLP/HTTP → {endpoint} (a collector)"))
        reach = _reachable(endpoint)
        checks.append(reach)
        if reach.ok:
            checks.append(_test_span(endpoint, None))
        return checks
    if not checks:
        checks.append(
            Check(
                "telemetry",
                False,
                "not configured: no trace leaves the process",
                "set OTEL_EXPORTER_OTLP_ENDPOINT (a collector) or LANGFUSE_PUBLIC_KEY and "
                "LANGFUSE_SECRET_KEY (Langfuse)",
                required=False,
            )
        )
    return checks


def _reachable(url: str) -> Check:
    parsed = urlparse(url if "://" in url else f"http://{url}")
    host = parsed.hostname or ""
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=NETWORK_TIMEOUT_S):
            pass
    except OSError as exc:
        return Check(
            "telemetry endpoint reachable",
            False,
            f"{host}:{port} unreachable ({exc.strerror or type(exc).__name__})",
            "check the URL, DNS, the NetworkPolicy egress rules, and that the backend runs",
        )
    ms = (time.monotonic() - started) * 1000
    return Check(
        "telemetry endpoint reachable", True, f"{host}:{port} accepts connections ({ms:.0f} ms)"
    )


def _langfuse_keys(base_url: str, public: str, secret: str) -> Check:
    token = base64.b64encode(f"{public}:{secret}".encode()).decode()
    request = Request(
        f"{base_url.rstrip('/')}/api/public/projects", headers={"Authorization": f"Basic {token}"}
    )
    try:
        with urlopen(request, timeout=NETWORK_TIMEOUT_S) as response:
            body = json.loads(response.read() or b"{}")
    except HTTPError as exc:
        fixes = {
            401: "the keys were rejected: copy LANGFUSE_PUBLIC_KEY/LANGFUSE_SECRET_KEY from the "
            "Langfuse project settings (and check LANGFUSE_BASE_URL is that project's region)",
            403: "the keys lack permission: use a project-level API key pair",
        }
        return Check(
            "Langfuse keys",
            False,
            f"HTTP {exc.code} from /api/public/projects",
            fixes.get(exc.code, "check the Langfuse server"),
        )
    except (URLError, OSError, ValueError) as exc:
        return Check(
            "Langfuse keys",
            False,
            f"request failed ({type(exc).__name__})",
            "check LANGFUSE_BASE_URL",
        )
    projects = [p.get("name") for p in body.get("data", []) if isinstance(p, dict)]
    name = f" (project {projects[0]})" if projects else ""
    return Check("Langfuse keys", True, f"accepted{name}")


def _test_span(endpoint: str, headers: dict[str, str] | None) -> Check:
    """Send one span marked as a doctor test, through the same exporter class a session uses."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from runner.otel.attributes import semconv as sc
    from runner.otel.export.exporters import CountingSpanExporter, ExportHealth

    health = ExportHealth("traces", endpoint)
    exporter = OTLPSpanExporter(endpoint=endpoint, headers=headers, timeout=NETWORK_TIMEOUT_S)
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(CountingSpanExporter(exporter, health)))
    span = provider.get_tracer("claude-runner-doctor").start_span(
        "claude-runner doctor",
        attributes={
            sc.LANGFUSE_TRACE_NAME: "claude-runner-doctor",
            sc.LANGFUSE_TRACE_TAGS: ["doctor-test"],
            sc.LANGFUSE_SESSION_ID: "claude-runner-doctor",
        },
    )
    span.end()
    provider.shutdown()
    report = health.report()
    if report.exported:
        return Check(
            "test span accepted", True, "sent trace 'claude-runner-doctor' (tag doctor-test)"
        )
    from runner.otel.export.exporters import FIXES

    kind = next(iter(report.failures), "failed")
    return Check(
        "test span accepted",
        False,
        f"the endpoint refused it ({kind})",
        FIXES.get(kind, FIXES["failed"]),
    )
