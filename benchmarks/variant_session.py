"""One benchmark session in its own process.

    python benchmarks/variant_session.py {off,otel,langfuse-sdk}   # `claude-runner run`
    python benchmarks/variant_session.py {plain,peer}               # a plain SDK loop

`plain` and `peer` run the same session with the SDK's usual `query()` + `receive_response()`
loop (the methods openinference-instrumentation-claude-agent-sdk wraps), without and with that
instrumentation exporting to the same receiver, so the peer is measured against its own
uninstrumented baseline. The environment comes from benchmarks/common.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time


async def plain_session() -> None:
    from claude_agent_sdk import ClaudeAgentOptions, ClaudeSDKClient, ResultMessage

    options = ClaudeAgentOptions(
        cwd=os.environ["WORKSPACE_PATH"],
        allowed_tools=os.environ["ALLOWED_TOOLS"].split(","),
        model="claude-sonnet-4-5",
        env={"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"},
    )
    started = time.monotonic()
    async with ClaudeSDKClient(options) as client:
        await client.query(os.environ["PROMPT"])
        async for message in client.receive_response():
            if isinstance(message, ResultMessage):
                assert not message.is_error, message
    duration_ms = int((time.monotonic() - started) * 1000)
    print(json.dumps({"type": "session_end", "duration_ms": duration_ms}), flush=True)


def _record_cpu_at_exit(path: str) -> None:
    """The runner ends with os._exit (no atexit): wrap it to write this process's own CPU
    seconds (all threads, without the CLI child) to `path` first."""
    import resource

    real_exit = os._exit

    def exit_recording(code: int) -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        with open(path, "w") as out:
            json.dump({"user": usage.ru_utime, "system": usage.ru_stime}, out)
        real_exit(code)

    os._exit = exit_recording  # type: ignore[assignment]


def main(variant: str) -> int:
    if os.environ.get("BENCH_RUSAGE_FILE"):
        _record_cpu_at_exit(os.environ["BENCH_RUSAGE_FILE"])
    if variant in ("off", "otel", "langfuse-sdk"):
        from runner.cli import entrypoint

        sys.argv = ["claude-runner", "run"]
        entrypoint()  # exits the process
    provider = None
    if variant == "peer":
        from openinference.instrumentation.claude_agent_sdk import ClaudeAgentSDKInstrumentor
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider = TracerProvider()
        endpoint = os.environ["PEER_OTLP_ENDPOINT"]
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        ClaudeAgentSDKInstrumentor().instrument(tracer_provider=provider)
    asyncio.run(plain_session())
    if provider is not None:
        provider.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
