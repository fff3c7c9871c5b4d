"""The Langfuse-native path (TELEMETRY_MODE=langfuse-sdk): the tracer of a `langfuse` Python SDK
(5.x) client, so the session's spans are exported by it instead of the runner's own OTLP
exporter.

Same tree, same attributes (runner.otel.attributes.spans), same span renderer (runner.otel.telemetry
builds the observer for both paths): what differs is who exports. Spans are made on the
Langfuse client's own tracer, so its processor, span filter, auth, batching and flush handle
them. The SDK's observation API is not used: it stamps "now"
and assembles attributes of its own, which is how the two paths drifted before.

Isolation: the client gets a TracerProvider of its own, never the global one, so no span is
exported twice and the SDK's export filter never sees a span of the OTel path. `langfuse` is
imported only here, only when the mode selects it (its import costs ~0.5 s).

Private surface, in one adapter: the client's tracer is `Langfuse._otel_tracer` (langfuse 5.x).
Without it, the provider's tracer under Langfuse's scope name is used, which its export filter
also accepts; tests/otel/test_langfuse_tracer.py fails if either moves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Tracer

from runner.otel.export.pipeline import build_resource
from runner.otel.export.settings import TelemetrySettings

log = logging.getLogger("runner.otel")
LANGFUSE_SCOPE = "langfuse-sdk"
"""The instrumentation scope Langfuse's span filter exports unconditionally."""


def langfuse_tracer(client: Any, provider: TracerProvider) -> Tracer:
    """The Langfuse client's tracer (a private attribute in langfuse 5.x), or its equivalent."""
    tracer = getattr(client, "_otel_tracer", None)
    if tracer is not None and hasattr(tracer, "start_span"):
        return tracer  # type: ignore[no-any-return]
    return provider.get_tracer(LANGFUSE_SCOPE)


def build_langfuse_tracer(
    settings: TelemetrySettings, environ: Mapping[str, str], ids: Any = None
) -> tuple[Tracer, Callable[[], None]]:
    """The Langfuse client's tracer on a provider of its own, and its bounded shutdown. `ids`:
    an IdGenerator (runner.otel.telemetry_worker.PresetIds) fixing the session span's ids."""
    from langfuse import Langfuse

    target = settings.langfuse
    assert target is not None
    provider = TracerProvider(
        resource=build_resource(environ), shutdown_on_exit=False, id_generator=ids
    )
    client = Langfuse(
        public_key=target.public_key,
        secret_key=target.secret_key,
        base_url=target.base_url,
        tracer_provider=provider,
        environment=settings.environment,
    )

    def shutdown() -> None:
        client.shutdown()  # flushes and removes the SDK's own exit hook
        provider.shutdown()

    log.info("telemetry: traces → %s (langfuse SDK)", target.traces_endpoint)
    return langfuse_tracer(client, provider), shutdown
