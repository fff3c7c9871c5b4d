"""Telemetry for a session run. The flow, one package or module per stage:

    runner.events (SDK messages interpreted once) → runner.ledger (every call, its figures)
      → tree/ (events → tree nodes, each ended as its work ends; tree.nodes: the nodes)
      → attributes/ (node → attributes: what every backend sees; attributes.semconv: the names)
      → span_renderer (nodes → spans) | langfuse_tracer (the Langfuse SDK path)
      → export/ (settings → providers → exporters; bounded shutdown; settings decided once)

`setup_telemetry()` wires it for a run (runner.otel.telemetry).
"""

from runner.otel.telemetry import Telemetry, TelemetryReport, session_observer, setup_telemetry

__all__ = ["Telemetry", "TelemetryReport", "session_observer", "setup_telemetry"]
