"""Exit time of the plain SDKs with their defaults, for comparison with the runner's budget.

    python benchmarks/exit_baseline.py {otel-sdk,langfuse-sdk} ENDPOINT_BASE

Creates 5 spans the way each SDK is usually set up (global provider, batch processor, exit hook
left on), prints END, and returns from main: the time from END to the process's exit is what the
SDK's exit hook costs.
"""

from __future__ import annotations

import sys


def otel_sdk(base: str) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider()  # shutdown_on_exit=True: the SDK's default
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces")))
    tracer = provider.get_tracer("baseline")
    for i in range(5):
        tracer.start_span(f"span-{i}").end()


def langfuse_sdk(base: str) -> None:
    from langfuse import Langfuse

    client = Langfuse(public_key="pk-lf-bench", secret_key="sk-lf-bench", base_url=base)
    for i in range(5):
        client.start_observation(name=f"span-{i}", as_type="span").end()


if __name__ == "__main__":
    {"otel-sdk": otel_sdk, "langfuse-sdk": langfuse_sdk}[sys.argv[1]](sys.argv[2])
    print("END", flush=True)
