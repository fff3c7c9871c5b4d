"""Which telemetry path a run uses, decided once from the environment.

The standard OTEL_* variables keep their meaning and are read by the OTel SDK itself wherever it
can (endpoints, headers, timeouts, compression, sampler, batch processor, limits, resource); this
module only decides *where* traces and metrics go, and validates what would otherwise fail
later. A bad value never fails the session: it is one warning naming the variable, and that
telemetry path is off.

    OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT set   → traces (and metrics) to that endpoint (a collector)
    else LANGFUSE_ENABLED / both Langfuse keys → traces to Langfuse's OTel endpoint; no metrics
    else                                       → no export (the trace view still works locally)
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote, urlparse

from runner.otel.content import ContentPolicy
from runner.otel.environment_variables import (
    LANGFUSE_BASE_URL,
    LANGFUSE_ENABLED,
    LANGFUSE_HOST,
    LANGFUSE_PUBLIC_KEY,
    LANGFUSE_SECRET_KEY,
    LANGFUSE_TRACING_ENVIRONMENT,
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

log = logging.getLogger("runner.otel")

DEFAULT_SCHEDULE_DELAY_MS = 1000
"""The runner's default export interval (the SDK's is 5000 ms): a span that ended more than a
second before a SIGKILL (OOM, eviction) is at the backend. At Claude's pace (a call every few
seconds) that is still a handful of spans per request; set OTEL_BSP_SCHEDULE_DELAY to change."""

DEFAULT_LANGFUSE_URL = "https://cloud.langfuse.com"
LANGFUSE_OTEL_PATH = "/api/public/otel/v1/traces"
DEFAULT_EXIT_BUDGET_S = 3.0
Mode = Literal["otel", "langfuse-sdk", "off"]
MODES: tuple[Mode, ...] = ("otel", "langfuse-sdk", "off")
EXPORTERS = ("otlp", "console", "none")
PROTOCOLS = ("http/protobuf", "grpc")
_TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class LangfuseTarget:
    base_url: str
    public_key: str
    secret_key: str = field(repr=False)

    @property
    def traces_endpoint(self) -> str:
        return self.base_url.rstrip("/") + LANGFUSE_OTEL_PATH

    @property
    def headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.public_key}:{self.secret_key}".encode()).decode()
        return {"Authorization": f"Basic {token}", "x-langfuse-ingestion-version": "4"}


@dataclass(frozen=True)
class TelemetrySettings:
    """Every telemetry decision of a run, made once from the environment."""

    mode: Mode = "otel"
    traces: tuple[str, ...] = ()
    """Trace exporters to build: `otlp` (collector), `langfuse`, `console`."""
    metrics: tuple[str, ...] = ()
    """Metric exporters: `otlp`, `console`."""
    protocol: str = "http/protobuf"
    langfuse: LangfuseTarget | None = None
    exit_budget_s: float = DEFAULT_EXIT_BUDGET_S
    trace_view: bool | None = None
    cli_telemetry: bool = False
    otlp_traces_endpoint: str = ""
    """Where OTLP traces go (as the SDK derives it from the OTEL_* variables)."""
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
        langfuse = _langfuse_target(env, langfuse_wanted, warnings)
        if mode == "langfuse-sdk":
            if langfuse is None:
                warnings.append(
                    f"{TELEMETRY_MODE}=langfuse-sdk needs {LANGFUSE_PUBLIC_KEY} and "
                    f"{LANGFUSE_SECRET_KEY}: set both; no traces are exported"
                )
            return cls(mode=mode, langfuse=langfuse, warnings=tuple(warnings), **base)  # type: ignore[arg-type]

        trace_names = _exporter_names(env, OTEL_TRACES_EXPORTER, warnings)
        metric_names = _exporter_names(env, OTEL_METRICS_EXPORTER, warnings)
        has_endpoint = bool(
            env.get(OTEL_EXPORTER_OTLP_ENDPOINT) or env.get(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
        )
        protocol = _protocol(env, warnings)
        otlp_ok = (
            protocol is not None and _endpoints_ok(env, warnings) and _headers_ok(env, warnings)
        )

        traces: list[str] = []
        metrics: list[str] = []
        if trace_names is not None:
            if "console" in trace_names:
                traces.append("console")
            # Unset OTEL_TRACES_EXPORTER means "otlp", as in the SDK.
            if "otlp" in trace_names or not trace_names:
                if has_endpoint:
                    if otlp_ok:
                        traces.append("otlp")
                elif langfuse is not None:
                    traces.append("langfuse")
                elif trace_names:
                    warnings.append(
                        f"{OTEL_TRACES_EXPORTER}=otlp but no endpoint: set "
                        f"{OTEL_EXPORTER_OTLP_ENDPOINT} (a collector) or the Langfuse keys; "
                        f"traces are not exported"
                    )
        if metric_names is not None:
            if "console" in metric_names:
                metrics.append("console")
            metrics_endpoint = has_endpoint or bool(env.get(OTEL_EXPORTER_OTLP_METRICS_ENDPOINT))
            if ("otlp" in metric_names or not metric_names) and metrics_endpoint and otlp_ok:
                metrics.append("otlp")
        traces_endpoint = env.get(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or _signal_url(
            env.get(OTEL_EXPORTER_OTLP_ENDPOINT, ""), "traces", protocol or "http/protobuf"
        )
        return cls(
            mode="otel",
            otlp_traces_endpoint=traces_endpoint,
            traces=tuple(traces),
            metrics=tuple(metrics),
            protocol=protocol or "http/protobuf",
            langfuse=langfuse,
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
        if raw and not _is_url(raw):
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


def _is_url(raw: str) -> bool:
    parsed = urlparse(raw)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc) and " " not in raw


def _langfuse_target(
    env: Mapping[str, str], wanted: bool | None, warnings: list[str]
) -> LangfuseTarget | None:
    if wanted is False:
        return None
    public = env.get(LANGFUSE_PUBLIC_KEY, "").strip()
    secret = env.get(LANGFUSE_SECRET_KEY, "").strip()
    if not public and not secret:
        if wanted:
            warnings.append(
                f"{LANGFUSE_ENABLED}=true but {LANGFUSE_PUBLIC_KEY} and {LANGFUSE_SECRET_KEY} "
                f"are not set: set both (from the langfuse-keys Secret); Langfuse export is off"
            )
        return None
    if not public or not secret:
        missing = LANGFUSE_PUBLIC_KEY if not public else LANGFUSE_SECRET_KEY
        warnings.append(
            f"{missing} is not set but the other Langfuse key is: set both; Langfuse export is off"
        )
        return None
    url_name = LANGFUSE_BASE_URL if env.get(LANGFUSE_BASE_URL) else LANGFUSE_HOST
    base_url = (env.get(url_name) or DEFAULT_LANGFUSE_URL).strip()
    if not _is_url(base_url):
        warnings.append(
            f"{url_name}={quote(base_url, safe=':/.-_')!r} is not a URL with http:// or "
            f"https://: use e.g. https://cloud.langfuse.com; Langfuse export is off"
        )
        return None
    return LangfuseTarget(base_url=base_url.rstrip("/"), public_key=public, secret_key=secret)
