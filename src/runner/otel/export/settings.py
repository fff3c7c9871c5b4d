"""Which telemetry path a run uses, decided once from the environment.

The standard OTEL_* variables keep their meaning and are read by the OTel SDK itself wherever it
can (endpoints, headers, timeouts, compression, sampler, batch processor, limits, resource); this
module only decides *where* traces and metrics go, and validates what would otherwise fail
later. A bad value never fails the session: it is one warning naming the variable, and that
destination is off; the others go on.

Traces (when OTEL_TRACES_EXPORTER is unset or includes `otlp`):

    OBSERVABILITY_BACKENDS set                 → exactly those: langfuse, mlflow, otlp (each its
                                                 own exporter and queue;
                                                 runner.otel.export.destinations)
    else OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT  → that endpoint (a collector)
    else LANGFUSE_ENABLED / both Langfuse keys → Langfuse's OTel endpoint
    else                                       → no export (the trace view still works locally)

Metrics go only where an endpoint for them is set, as the OTLP spec reads the variables:
OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT; a traces-only endpoint sends
no metrics anywhere (not to the SDK's default localhost:4318). Langfuse and MLflow ingest
traces only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

from runner.otel.attributes.content import ContentPolicy
from runner.otel.export.destinations import (
    LangfuseTarget,
    MlflowTarget,
    backends,
    is_url,
    langfuse_target,
)
from runner.otel.export.environment_variables import (
    LANGFUSE_ENABLED,
    LANGFUSE_PUBLIC_KEY,
    LANGFUSE_SECRET_KEY,
    LANGFUSE_TRACING_ENVIRONMENT,
    OBSERVABILITY_BACKENDS,
    OTEL_BSP_SCHEDULE_DELAY,
    OTEL_EXPORTER_OTLP_ENDPOINT,
    OTEL_EXPORTER_OTLP_HEADERS,
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
    OTEL_EXPORTER_OTLP_METRICS_HEADERS,
    OTEL_EXPORTER_OTLP_PROTOCOL,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    OTEL_EXPORTER_OTLP_TRACES_HEADERS,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
    OTEL_METRICS_EXPORTER,
    OTEL_SDK_DISABLED,
    OTEL_TRACES_EXPORTER,
    RUNNER_CLI_TELEMETRY,
    RUNNER_EXIT_BUDGET,
    RUNNER_TRACE_VIEW,
    TELEMETRY_MODE,
    TRACEPARENT,
    TRACESTATE,
)
from runner.otel.export.routes import Routes

log = logging.getLogger("runner.otel")

DEFAULT_SCHEDULE_DELAY_MS = 1000
"""The runner's default export interval (the SDK's is 5000 ms): a span that ended more than a
second before a SIGKILL (OOM, eviction) is at the backend. At Claude's pace (a call every few
seconds) that is still a handful of spans per request; set OTEL_BSP_SCHEDULE_DELAY to change."""

DEFAULT_EXIT_BUDGET_S = 3.0
Mode = Literal["otel", "langfuse-sdk", "off"]
MODES: tuple[Mode, ...] = ("otel", "langfuse-sdk", "off")
EXPORTERS = ("otlp", "console", "none")
PROTOCOLS = ("http/protobuf", "grpc")
_TRUE = ("1", "true", "yes", "on")
__all__ = ["LangfuseTarget", "MlflowTarget", "TelemetrySettings"]


@dataclass(frozen=True)
class TelemetrySettings:
    """Every telemetry decision of a run, made once from the environment."""

    mode: Mode = "otel"
    traces: tuple[str, ...] = ()
    """Trace exporters to build, each with its own queue: `otlp` (OTEL_EXPORTER_OTLP_*, e.g. a
    collector), `langfuse`, `mlflow`, `console`."""
    metrics: tuple[str, ...] = ()
    """Metric exporters: `otlp`, `console`."""
    protocol: str = "http/protobuf"
    langfuse: LangfuseTarget | None = None
    mlflow: MlflowTarget | None = None
    exit_budget_s: float = DEFAULT_EXIT_BUDGET_S
    trace_view: bool | None = None
    cli_telemetry: bool = False
    otlp_traces_endpoint: str = ""
    """Where OTLP traces go (as the SDK derives it from the OTEL_* variables)."""
    otlp_metrics_endpoint: str = ""
    """Where OTLP metrics go (as the SDK derives it), when `otlp` is in `metrics`."""
    content: ContentPolicy = field(default_factory=ContentPolicy.off)
    traceparent: str | None = None
    """A valid W3C traceparent the session joins (TRACEPARENT), else None."""
    tracestate: str | None = None
    environment: str | None = None
    schedule_delay_ms: int = DEFAULT_SCHEDULE_DELAY_MS
    warnings: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TelemetrySettings:
        warnings: list[str] = []

        def flag(name: str) -> bool | None:
            raw = env.get(name, "").strip().lower()
            if not raw:
                return None
            if raw in _TRUE:
                return True
            if raw in ("0", "false", "no", "off"):
                return False
            warnings.append(f"{name}={raw!r} is not a boolean: set true or false; ignored")
            return None

        budget = _exit_budget(env, warnings)
        trace_view = flag(RUNNER_TRACE_VIEW)
        content = ContentPolicy.from_env(env, warnings)
        common = dict(
            content=content,
            traceparent=_traceparent(env, warnings),
            tracestate=env.get(TRACESTATE) or None,
            environment=env.get(LANGFUSE_TRACING_ENVIRONMENT, "").strip() or None,
            schedule_delay_ms=_schedule_delay(env, warnings),
            cli_telemetry=bool(flag(RUNNER_CLI_TELEMETRY)),  # both paths: the relay serves each
        )
        mode = env.get(TELEMETRY_MODE, "").strip().lower() or "otel"
        if mode not in MODES:
            warnings.append(
                f"{TELEMETRY_MODE}={mode!r} is unknown: use one of {', '.join(MODES)}; "
                f"telemetry is off for this run"
            )
            mode = "off"
        if flag(OTEL_SDK_DISABLED):
            mode = "off"
        base = dict(exit_budget_s=budget, trace_view=trace_view, **common)
        if mode == "off":
            return cls(mode="off", warnings=tuple(warnings), **base)  # type: ignore[arg-type]

        langfuse_wanted = flag(LANGFUSE_ENABLED)
        langfuse = langfuse_target(env, langfuse_wanted, warnings)
        listed = backends(env, warnings)
        if mode == "langfuse-sdk":
            if langfuse is None:
                warnings.append(
                    f"{TELEMETRY_MODE}=langfuse-sdk needs {LANGFUSE_PUBLIC_KEY} and "
                    f"{LANGFUSE_SECRET_KEY}: set both; no traces are exported"
                )
            if listed and set(listed) - {"langfuse"}:
                warnings.append(
                    f"{OBSERVABILITY_BACKENDS}={','.join(listed)!r} is not used with "
                    f"{TELEMETRY_MODE}=langfuse-sdk (Langfuse only): use {TELEMETRY_MODE}=otel "
                    f"to export to several backends"
                )
            return cls(mode=mode, langfuse=langfuse, warnings=tuple(warnings), **base)  # type: ignore[arg-type]

        protocol = _protocol(env, warnings)
        otlp_ok = (
            protocol is not None and _endpoints_ok(env, warnings) and _headers_ok(env, warnings)
        )
        routes = Routes(env, warnings, otlp_ok)
        mlflow = None
        trace_names = _exporter_names(env, OTEL_TRACES_EXPORTER, warnings)
        if trace_names is not None:
            if "console" in trace_names:
                routes.traces.append("console")
            # Unset OTEL_TRACES_EXPORTER means "otlp", as in the SDK.
            if "otlp" in trace_names or not trace_names:
                if listed is None:
                    routes.default_traces(langfuse, explicit=bool(trace_names))
                else:
                    mlflow = routes.listed_traces(listed, langfuse, langfuse_wanted)
            elif listed:
                warnings.append(
                    f"{OBSERVABILITY_BACKENDS} is not used: {OTEL_TRACES_EXPORTER}="
                    f"{env.get(OTEL_TRACES_EXPORTER, '').strip()!r} has no otlp; add otlp to it"
                )
        metric_names = _exporter_names(env, OTEL_METRICS_EXPORTER, warnings)
        if metric_names is not None:
            routes.metrics_from(metric_names)
        traces_endpoint = env.get(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or _signal_url(
            env.get(OTEL_EXPORTER_OTLP_ENDPOINT, ""), "traces", protocol or "http/protobuf"
        )
        metrics_endpoint = env.get(OTEL_EXPORTER_OTLP_METRICS_ENDPOINT) or _signal_url(
            env.get(OTEL_EXPORTER_OTLP_ENDPOINT, ""), "metrics", protocol or "http/protobuf"
        )
        return cls(
            mode="otel",
            otlp_traces_endpoint=traces_endpoint,
            otlp_metrics_endpoint=metrics_endpoint,
            traces=tuple(routes.traces),
            metrics=tuple(routes.metrics),
            protocol=protocol or "http/protobuf",
            langfuse=langfuse,
            mlflow=mlflow,
            warnings=tuple(warnings),
            **base,  # type: ignore[arg-type]
        )


def _traceparent(env: Mapping[str, str], warnings: list[str]) -> str | None:
    raw = env.get(TRACEPARENT, "").strip()
    if not raw:
        return None
    parts = raw.split("-")
    hexdigits = set("0123456789abcdef")
    valid = (
        len(parts) >= 4
        and [len(p) for p in parts[:4]] == [2, 32, 16, 2]
        and all(set(p) <= hexdigits for p in parts[:4])
        and parts[0] != "ff"
        and set(parts[1]) != {"0"}
        and set(parts[2]) != {"0"}
    )
    if not valid:
        warnings.append(
            f"{TRACEPARENT}={quote(raw[:80], safe='-')!r} is not a W3C traceparent "
            f"(00-<32 hex>-<16 hex>-<2 hex>); the session starts a new trace"
        )
        return None
    return raw


def _schedule_delay(env: Mapping[str, str], warnings: list[str]) -> int:
    raw = env.get(OTEL_BSP_SCHEDULE_DELAY, "").strip()
    if not raw:
        return DEFAULT_SCHEDULE_DELAY_MS
    if raw.isascii() and raw.isdigit():
        return int(raw)
    warnings.append(
        f"{OTEL_BSP_SCHEDULE_DELAY}={raw!r} is not a whole number of milliseconds; "
        f"using {DEFAULT_SCHEDULE_DELAY_MS}"
    )
    return DEFAULT_SCHEDULE_DELAY_MS


def _signal_url(base: str, signal: str, protocol: str) -> str:
    """What the SDK derives from OTEL_EXPORTER_OTLP_ENDPOINT."""
    if protocol == "grpc" or not base:
        return base
    return f"{base.rstrip('/')}/v1/{signal}"


def _exit_budget(env: Mapping[str, str], warnings: list[str]) -> float:
    raw = env.get(RUNNER_EXIT_BUDGET, "").strip()
    if not raw:
        return DEFAULT_EXIT_BUDGET_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 300:
        warnings.append(
            f"{RUNNER_EXIT_BUDGET}={raw!r} is not a number of seconds between 0 and 300; "
            f"using {DEFAULT_EXIT_BUDGET_S:g}"
        )
        return DEFAULT_EXIT_BUDGET_S
    return value


def _exporter_names(env: Mapping[str, str], name: str, warnings: list[str]) -> set[str] | None:
    """The names in an OTEL_*_EXPORTER list; {} when unset; None when the path is off."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return set()
    names = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = names - set(EXPORTERS)
    if unknown:
        warnings.append(
            f"{name}={raw!r}: unknown exporter {', '.join(sorted(unknown))}; use otlp, console "
            f"or none; this signal is not exported"
        )
        return None
    if names == {"none"}:
        return None
    return names - {"none"}


def _protocol(env: Mapping[str, str], warnings: list[str]) -> str | None:
    for name in (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL):
        raw = env.get(name, "").strip().lower()
        if raw:
            if raw not in PROTOCOLS:
                warnings.append(
                    f"{name}={raw!r} is not supported: use http/protobuf or grpc; "
                    f"OTLP export is off"
                )
                return None
            return raw
    return "http/protobuf"


def _endpoints_ok(env: Mapping[str, str], warnings: list[str]) -> bool:
    ok = True
    for name in (
        OTEL_EXPORTER_OTLP_ENDPOINT,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
    ):
        raw = env.get(name, "").strip()
        if raw and not is_url(raw):
            warnings.append(
                f"{name}={raw!r} is not a URL: use e.g. http://otel-collector:4318; "
                f"OTLP export is off"
            )
            ok = False
    return ok


def _headers_ok(env: Mapping[str, str], warnings: list[str]) -> bool:
    ok = True
    for name in (
        OTEL_EXPORTER_OTLP_HEADERS,
        OTEL_EXPORTER_OTLP_TRACES_HEADERS,
        OTEL_EXPORTER_OTLP_METRICS_HEADERS,
    ):
        raw = env.get(name, "")
        if not raw.strip():
            continue
        for number, pair in enumerate(raw.split(","), start=1):
            key, sep, _ = pair.partition("=")
            if not sep or not key.strip() or any(c.isspace() for c in key.strip()):
                # Never echo the value: headers hold credentials.
                warnings.append(
                    f"{name}: pair {number} is not key=value (URL-encode values; separate pairs "
                    f"with commas); OTLP export is off"
                )
                ok = False
                break
    return ok
