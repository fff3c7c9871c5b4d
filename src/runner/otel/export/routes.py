"""Which exporters each signal gets, from the endpoint variables and the backends list: the
routing half of runner.otel.export.settings (which validates the values first). Each destination
that is named but not configured is one warning; the others go on."""

from __future__ import annotations

from collections.abc import Mapping

from runner.otel.export.destinations import LangfuseTarget, MlflowTarget, mlflow_target
from runner.otel.export.environment_variables import (
    LANGFUSE_ENABLED,
    LANGFUSE_PUBLIC_KEY,
    LANGFUSE_SECRET_KEY,
    OBSERVABILITY_BACKENDS,
    OTEL_EXPORTER_OTLP_ENDPOINT,
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    OTEL_METRICS_EXPORTER,
    OTEL_TRACES_EXPORTER,
)


class Routes:
    """The trace and metric exporter names, decided from the endpoint variables."""

    def __init__(self, env: Mapping[str, str], warnings: list[str], otlp_ok: bool) -> None:
        self.env = env
        self.warnings = warnings
        self.otlp_ok = otlp_ok
        self.traces: list[str] = []
        self.metrics: list[str] = []
        self.traces_endpoint = bool(
            env.get(OTEL_EXPORTER_OTLP_ENDPOINT) or env.get(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
        )
        self.metrics_endpoint = bool(
            env.get(OTEL_EXPORTER_OTLP_ENDPOINT) or env.get(OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)
        )

    def default_traces(self, langfuse: LangfuseTarget | None, *, explicit: bool) -> None:
        """Without OBSERVABILITY_BACKENDS: a collector endpoint, else Langfuse."""
        if self.traces_endpoint:
            if self.otlp_ok:
                self.traces.append("otlp")
        elif langfuse is not None:
            self.traces.append("langfuse")
        elif explicit:
            self.warnings.append(
                f"{OTEL_TRACES_EXPORTER}=otlp but no endpoint: set "
                f"{OTEL_EXPORTER_OTLP_ENDPOINT} (a collector) or the Langfuse keys; "
                f"traces are not exported"
            )

    def listed_traces(
        self, listed: tuple[str, ...], langfuse: LangfuseTarget | None, wanted: bool | None
    ) -> MlflowTarget | None:
        """OBSERVABILITY_BACKENDS: each named destination that is configured; one warning for
        each that is not."""
        mlflow = None
        for name in listed:
            if name == "otlp":
                if not self.traces_endpoint:
                    self.warnings.append(
                        f"{OBSERVABILITY_BACKENDS} names otlp but neither "
                        f"{OTEL_EXPORTER_OTLP_ENDPOINT} nor {OTEL_EXPORTER_OTLP_TRACES_ENDPOINT} "
                        f"is set: set one (e.g. http://otel-collector:4318); otlp is off"
                    )
                elif self.otlp_ok:
                    self.traces.append("otlp")
            elif name == "langfuse":
                if langfuse is not None:
                    self.traces.append("langfuse")
                elif wanted is False:
                    self.warnings.append(
                        f"{OBSERVABILITY_BACKENDS} names langfuse but {LANGFUSE_ENABLED}=false: "
                        f"Langfuse export is off"
                    )
                elif not (self.env.get(LANGFUSE_PUBLIC_KEY) or self.env.get(LANGFUSE_SECRET_KEY)):
                    self.warnings.append(
                        f"{OBSERVABILITY_BACKENDS} names langfuse but {LANGFUSE_PUBLIC_KEY} and "
                        f"{LANGFUSE_SECRET_KEY} are not set: set both (from the langfuse-keys "
                        f"Secret); Langfuse export is off"
                    )
            elif name == "mlflow":
                mlflow = mlflow_target(self.env, self.warnings)
                if mlflow is not None:
                    self.traces.append("mlflow")
        return mlflow

    def metrics_from(self, names: set[str]) -> None:
        """Metrics go to an OTLP endpoint only if one is set for them (the spec's reading: a
        traces endpoint alone does not send metrics to the default localhost:4318)."""
        if "console" in names:
            self.metrics.append("console")
        if "otlp" not in names and names:
            return
        if self.metrics_endpoint:
            if self.otlp_ok:
                self.metrics.append("otlp")
        elif "otlp" in names:
            self.warnings.append(
                f"{OTEL_METRICS_EXPORTER}=otlp but no metrics endpoint: set "
                f"{OTEL_EXPORTER_OTLP_METRICS_ENDPOINT} or {OTEL_EXPORTER_OTLP_ENDPOINT} (a "
                f"collector; Langfuse and MLflow take no metrics); metrics are not exported"
            )
