"""The trace a session writes, announced: its id, its traceparent and, where a destination is
known, its URLs (stdout's `session_start` and `session_end`, the log, `claude-runner view`).

Langfuse: `{host}/project/{projectId}/traces/{traceId}`. The project id is LANGFUSE_PROJECT_ID,
or Langfuse's `GET /api/public/projects` (`data[0].id`, the keys' own project), asked on a
thread of its own: it never delays or fails the session. Until it has answered (and if it
never does), the URL is `{host}/trace/{traceId}`, which Langfuse redirects to the project's.
MLflow: the trace's id there (`tr-` + the OTel trace id) and its page in the experiment.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from runner.otel.export.environment_variables import LANGFUSE_PROJECT_ID
from runner.otel.export.score_clients import LangfuseScores, ScoreDeliveryError, mlflow_trace_id
from runner.otel.export.settings import TelemetrySettings

log = logging.getLogger("runner.otel")
PROJECT_LOOKUP_TIMEOUT_S = 10.0


class TraceLinks:
    def __init__(
        self, trace_id: str, traceparent: str, settings: TelemetrySettings, env: Mapping[str, str]
    ) -> None:
        self.trace_id = trace_id
        self.traceparent = traceparent
        self._langfuse: LangfuseScores | None = None
        to_langfuse = settings.mode == "langfuse-sdk" or bool(
            {"langfuse", "otlp"} & set(settings.traces)
        )
        if settings.langfuse is not None and to_langfuse:
            self._langfuse = LangfuseScores(settings.langfuse, None)
        self._mlflow = settings.mlflow if "mlflow" in settings.traces else None
        self.project_id: str | None = env.get(LANGFUSE_PROJECT_ID, "").strip() or None
        self._thread: threading.Thread | None = None

    def resolve(self) -> TraceLinks:
        """Ask Langfuse for the project id, on a daemon thread (at most once)."""
        if self._langfuse is not None and self.project_id is None and self._thread is None:
            self._thread = threading.Thread(target=self._lookup, name="langfuse-project")
            self._thread.daemon = True
            self._thread.start()
        return self

    def _lookup(self) -> None:
        assert self._langfuse is not None
        try:
            self.project_id = self._langfuse.project_id(PROJECT_LOOKUP_TIMEOUT_S)
        except ScoreDeliveryError as exc:
            log.info(
                "telemetry: Langfuse's project id is unknown (%s); the trace URL is "
                "%s/trace/<id> (set %s to give it)",
                exc.kind.replace("http_", "HTTP "),
                self._langfuse.target.base_url,
                LANGFUSE_PROJECT_ID,
            )
        except Exception:
            log.debug("project lookup failed", exc_info=True)

    def urls(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self._langfuse is not None:
            base = self._langfuse.target.base_url
            if self.project_id:
                out["langfuse"] = f"{base}/project/{self.project_id}/traces/{self.trace_id}"
            else:
                out["langfuse"] = f"{base}/trace/{self.trace_id}"
        if self._mlflow is not None:
            uri, experiment = self._mlflow.tracking_uri, self._mlflow.experiment_id
            tid = mlflow_trace_id(self.trace_id)
            out["mlflow"] = f"{uri}/#/experiments/{experiment}/traces?selectedEvaluationId={tid}"
        return out

    def fields(self) -> dict[str, Any]:
        """What stdout's session_start and session_end carry."""
        out: dict[str, Any] = {"trace_id": self.trace_id, "traceparent": self.traceparent}
        urls = self.urls()
        if urls:
            out["trace_urls"] = urls
        if self._mlflow is not None:
            out["mlflow_trace_id"] = mlflow_trace_id(self.trace_id)
        return out
