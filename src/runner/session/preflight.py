"""The model-credential check made while the Claude Code CLI starts.

With a wrong key or an unreachable endpoint the CLI retries for about three minutes before it
gives up (measured, CLI 2.1.33x). One authenticated `GET /v1/models` (no model call, no cost)
answers in milliseconds instead:

    200                         ok
    401 / 403                   the key was refused → exit 3, naming the variable that held it
    connection refused, no DNS  unreachable → exit 3, naming the URL
    anything else (404 from a   inconclusive → the session goes on (said at DEBUG): a proxy
    proxy, 5xx, a timeout)      without that route must not stop a session

Vertex AI is not checked (its credentials are Google's). RUNNER_PREFLIGHT=false turns it off.
`claude-runner doctor` uses the same check.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse
from urllib.request import Request, urlopen

from runner import environment_variables as ev

DEFAULT_BASE_URL = "https://api.anthropic.com"
TIMEOUT_S = 2.0
Verdict = Literal["ok", "refused", "unreachable", "inconclusive", "skipped"]


@dataclass(frozen=True)
class Preflight:
    verdict: Verdict
    message: str
    status: int | None = None

    @property
    def fatal(self) -> bool:
        return self.verdict in ("refused", "unreachable")


def check_model_access(env: Mapping[str, str], timeout_s: float = TIMEOUT_S) -> Preflight:
    """Check the credentials the CLI will use against the endpoint it will use."""
    if env.get(ev.CLAUDE_CODE_USE_VERTEX, "").strip().lower() in ("1", "true", "yes", "on"):
        return Preflight("skipped", "Vertex AI: credentials are not checked before the session")
    key_name = ev.ANTHROPIC_API_KEY if env.get(ev.ANTHROPIC_API_KEY) else ev.ANTHROPIC_AUTH_TOKEN
    secret = env.get(key_name, "")
    if not secret:
        return Preflight("skipped", "no Anthropic credentials to check")
    base_name = ev.ANTHROPIC_BASE_URL if env.get(ev.ANTHROPIC_BASE_URL) else None
    base = (env.get(ev.ANTHROPIC_BASE_URL) or DEFAULT_BASE_URL).rstrip("/")
    where = f"{base_name}={base}" if base_name else base
    headers = {"anthropic-version": "2023-06-01"}
    if key_name == ev.ANTHROPIC_API_KEY:
        headers["x-api-key"] = secret
    else:
        headers["Authorization"] = f"Bearer {secret}"
    request = Request(f"{base}/v1/models?limit=1", headers=headers)
    try:
        with urlopen(request, timeout=timeout_s) as response:
            return Preflight("ok", f"{where} accepted {key_name}", response.status)
    except HTTPError as exc:
        if exc.code in (401, 403):
            detail = _error_detail(exc)
            fix = (
                f"set {key_name} to a valid key (from the model-credentials Secret)"
                if exc.code == 401
                else f"the key in {key_name} has no access to this API: check its workspace"
            )
            return Preflight(
                "refused",
                f"{key_name} was refused by {where} (HTTP {exc.code}{detail}): {fix}",
                exc.code,
            )
        return Preflight(
            "inconclusive", f"{where}/v1/models answered HTTP {exc.code}; not checked", exc.code
        )
    except (URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, URLError) else exc
        if isinstance(reason, TimeoutError | socket.timeout):
            return Preflight("inconclusive", f"{where} did not answer within {timeout_s:g}s")
        if isinstance(reason, ConnectionRefusedError | socket.gaierror):
            what = "connection refused" if isinstance(reason, ConnectionRefusedError) else "no DNS"
            host = urlparse(base).netloc or base
            fix = (
                f"check {ev.ANTHROPIC_BASE_URL} and that the endpoint runs"
                if base_name
                else "check the Job's egress (NetworkPolicy, proxy) and DNS"
            )
            return Preflight("unreachable", f"{where} is unreachable ({what} at {host}): {fix}")
        return Preflight("inconclusive", f"{where}: {type(reason).__name__}; not checked")


def _error_detail(exc: HTTPError) -> str:
    try:
        body = json.loads(exc.read() or b"{}")
        error = body.get("error") or {}
        kind, message = error.get("type"), error.get("message")
        return f": {kind}: {message}" if kind and message else ""
    except (ValueError, OSError, AttributeError):
        return ""
