"""Seconds from session_end to the process's exit with several trace destinations (healthy,
one hung, one refusing, a traces endpoint alone): medians of N interleaved runs.

    .venv/bin/python benchmarks/exporters.py [N]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from tests.e2e.harness import Runner
from tests.otlp_receiver import OTLPHttpReceiver
from tests.support.backends import BASIC, both_backends, free_port, mlflow_receiver
from tests.support.scripts import EXPORT_SCRIPT as SCRIPT


def scenario(name: str, runner: Runner) -> float:
    langfuse = OTLPHttpReceiver(auth=BASIC)
    extra: dict[str, str | None] = {}
    stop = [langfuse]
    if name == "both healthy":
        mlflow = mlflow_receiver()
        stop.append(mlflow)
        env = both_backends(langfuse.url, mlflow.url)
    elif name == "mlflow hangs":
        mlflow = OTLPHttpReceiver(mode="hang")
        stop.append(mlflow)
        env = both_backends(langfuse.url, mlflow.url)
    elif name == "mlflow refuses connections":
        env = both_backends(langfuse.url, f"http://127.0.0.1:{free_port()}")
    elif name == "langfuse only":
        env = {**both_backends(langfuse.url, "x"), "OBSERVABILITY_BACKENDS": "langfuse"}
    elif name == "traces endpoint only":
        env = {"OTEL_SDK_DISABLED": None, "RUNNER_EXIT_BUDGET": "3"}
        extra = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{langfuse.url}/v1/traces"}
    else:
        raise ValueError(name)
    try:
        done = runner.run(SCRIPT, **env, **extra)
    finally:
        for receiver in stop:
            receiver.stop()
    assert done.code == 0 and done.exit_after_end_s is not None, done.stderr
    return done.exit_after_end_s


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    names = [
        "langfuse only",
        "both healthy",
        "mlflow hangs",
        "mlflow refuses connections",
        "traces endpoint only",
    ]
    times: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as root:
        runner = Runner(Path(root))
        for _ in range(n):  # interleaved
            for name in names:
                times[name].append(scenario(name, runner))
    for name in names:
        values = times[name]
        print(
            f"{name:28s} median {statistics.median(values):.2f} s  "
            f"(min {min(values):.2f}, max {max(values):.2f}, n={n})"
        )


if __name__ == "__main__":
    main()
