"""Direct trace destinations in the platform's terms: Langfuse and MLflow, each an OTLP/HTTP
endpoint with its own headers, and the OBSERVABILITY_BACKENDS list that names several at once.

Each is decided from its own variables; a bad value is one warning naming the variable, the
value (never a credential) and the fix, and turns only that destination off.

MLflow (measured on mlflow 3.17, DESIGN.md): OTLP/HTTP only at `{MLFLOW_TRACKING_URI}/v1/traces`,
header `x-mlflow-experiment-id` required, protobuf (gzip ok), no metrics route (404). Auth as the
MLflow client does it: MLFLOW_TRACKING_TOKEN (Bearer) wins over MLFLOW_TRACKING_USERNAME and
MLFLOW_TRACKING_PASSWORD (Basic).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlparse

from runner.otel.export.environment_variables import (
    LANGFUSE_BASE_URL,
    LANGFUSE_ENABLED,
    LANGFUSE_HOST,
    LANGFUSE_PUBLIC_KEY,
    LANGFUSE_SECRET_KEY,
    MLFLOW_EXPERIMENT_ID,
    MLFLOW_EXPERIMENT_NAME,
    MLFLOW_TRACKING_PASSWORD,
    MLFLOW_TRACKING_TOKEN,
    MLFLOW_TRACKING_URI,
    MLFLOW_TRACKING_USERNAME,
    OBSERVABILITY_BACKENDS,
)

DEFAULT_LANGFUSE_URL = "https://cloud.langfuse.com"
LANGFUSE_OTEL_PATH = "/api/public/otel/v1/traces"
MLFLOW_OTEL_PATH = "/v1/traces"
MLFLOW_EXPERIMENT_HEADER = "x-mlflow-experiment-id"
BACKENDS = ("langfuse", "mlflow", "otlp")
"""What OBSERVABILITY_BACKENDS may name: `otlp` is the standard OTEL_EXPORTER_OTLP_* exporter."""


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
class MlflowTarget:
    tracking_uri: str
    experiment_id: str
    authorization: str | None = field(default=None, repr=False)
    """The Authorization header value (Bearer or Basic), if the server needs one."""

    @property
    def traces_endpoint(self) -> str:
        return self.tracking_uri.rstrip("/") + MLFLOW_OTEL_PATH

    @property
    def headers(self) -> dict[str, str]:
        headers = {MLFLOW_EXPERIMENT_HEADER: self.experiment_id}
        if self.authorization:
            headers["Authorization"] = self.authorization
        return headers


def is_url(raw: str) -> bool:
    parsed = urlparse(raw)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc) and " " not in raw


def backends(env: Mapping[str, str], warnings: list[str]) -> tuple[str, ...] | None:
    """The destinations OBSERVABILITY_BACKENDS names, in its order; None when unset (the older
    rules decide). Unknown names are one warning and skipped; the others go on."""
    raw = env.get(OBSERVABILITY_BACKENDS, "")
    if not raw.strip():
        return None
    names: list[str] = []
    for part in raw.split(","):
        name = part.strip().lower()
        if not name or name in names or name == "none":
            continue
        if name not in BACKENDS:
            warnings.append(
                f"{OBSERVABILITY_BACKENDS}={_shown(raw)!r}: unknown backend {_shown(name)!r}: use "
                f"a comma-separated list of {', '.join(BACKENDS)} (or none); the others go on"
            )
            continue
        names.append(name)
    return tuple(names)


def langfuse_target(
    env: Mapping[str, str], wanted: bool | None, warnings: list[str]
) -> LangfuseTarget | None:
    """`wanted`: LANGFUSE_ENABLED (None when unset). Keys alone mean yes."""
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
    if not is_url(base_url):
        warnings.append(
            f"{url_name}={_shown(_without_userinfo(base_url))!r} is not a URL with http:// or "
            f"https://: use e.g. https://cloud.langfuse.com; Langfuse export is off"
        )
        return None
    return LangfuseTarget(base_url=base_url.rstrip("/"), public_key=public, secret_key=secret)


def mlflow_target(env: Mapping[str, str], warnings: list[str]) -> MlflowTarget | None:
    """MLflow's own variables → its OTLP destination; each problem is one warning, then off."""
    off = "MLflow export is off"
    uri = env.get(MLFLOW_TRACKING_URI, "").strip()
    if not uri:
        warnings.append(
            f"{OBSERVABILITY_BACKENDS} names mlflow but {MLFLOW_TRACKING_URI} is not set: set it "
            f"to the tracking server's URL (e.g. http://mlflow:5000); {off}"
        )
        return None
    if not is_url(uri):
        warnings.append(
            f"{MLFLOW_TRACKING_URI}={_shown(_without_userinfo(uri))!r} is not an http:// or "
            f"https:// URL of a tracking server (MLflow takes OTLP only there): use e.g. "
            f"http://mlflow:5000; {off}"
        )
        return None
    experiment = env.get(MLFLOW_EXPERIMENT_ID, "").strip()
    if not experiment:
        by_name = (
            f" ({MLFLOW_EXPERIMENT_NAME} is not enough: the OTLP route needs the id)"
            if env.get(MLFLOW_EXPERIMENT_NAME, "").strip()
            else ""
        )
        warnings.append(
            f"{MLFLOW_EXPERIMENT_ID} is not set{by_name}: set it to the experiment's id "
            f"(e.g. 1; MLflow stores traces per experiment); {off}"
        )
        return None
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
    if len(experiment) > 64 or not set(experiment) <= allowed:
        warnings.append(
            f"{MLFLOW_EXPERIMENT_ID}={_shown(experiment)!r} is not an experiment id (digits, as "
            f"MLflow shows it, e.g. 1): set the id, not the name; {off}"
        )
        return None
    authorization = _mlflow_authorization(env, warnings)
    if authorization is None:
        return None
    bare = _without_userinfo(uri)
    if bare != uri:
        warnings.append(
            f"{MLFLOW_TRACKING_URI} holds credentials (user:password@host): they are not sent; "
            f"put them in {MLFLOW_TRACKING_USERNAME} and {MLFLOW_TRACKING_PASSWORD}"
        )
    return MlflowTarget(
        tracking_uri=bare.rstrip("/"),
        experiment_id=experiment,
        authorization=authorization or None,
    )


def _mlflow_authorization(env: Mapping[str, str], warnings: list[str]) -> str | None:
    """The Authorization value; "" for none; None when the credentials are half set."""
    token = env.get(MLFLOW_TRACKING_TOKEN, "").strip()
    if token:
        return f"Bearer {token}"
    username = env.get(MLFLOW_TRACKING_USERNAME, "")
    password = env.get(MLFLOW_TRACKING_PASSWORD, "")
    if not username and not password:
        return ""
    if not username or not password:
        missing = MLFLOW_TRACKING_USERNAME if not username else MLFLOW_TRACKING_PASSWORD
        warnings.append(
            f"{missing} is not set but the other MLflow credential is: set both (or "
            f"{MLFLOW_TRACKING_TOKEN}); MLflow export is off"
        )
        return None
    basic = base64.b64encode(f"{username}:{password}".encode()).decode()
    return f"Basic {basic}"


def _without_userinfo(uri: str) -> str:
    """user:password@ in the URI would be sent nowhere useful and logged with the endpoint."""
    parsed = urlparse(uri)
    if "@" not in parsed.netloc:
        return uri
    return parsed._replace(netloc=parsed.netloc.rsplit("@", 1)[1]).geturl()


def _shown(raw: str) -> str:
    """A value as it may appear in a warning: short, printable."""
    return quote(raw[:80], safe=":/.-_,=@ ")
