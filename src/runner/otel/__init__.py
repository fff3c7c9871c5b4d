"""Telemetry for a session run. The flow, one module per stage:

    runner.events (SDK messages interpreted once)
      → tree_builder (events → tree nodes, each ended as its work ends)   tree: the nodes
      → attributes (node → attributes: what every backend sees)           pricing: exact cost
      → span_renderer (nodes → spans) | langfuse_tracer (the Langfuse SDK path)
      → pipeline (settings → providers → exporters; bounded shutdown)     settings: decided once

`setup_telemetry()` wires it for a run (runner.otel.telemetry).
"""

from runner.otel.telemetry import Telemetry, TelemetryReport, session_observer, setup_telemetry

__all__ = ["Telemetry", "TelemetryReport", "session_observer", "setup_telemetry"]
