"""The evidence issue 27's note asks for, from one real session (the real SDK and Claude Code CLI
against the scripted Messages API server), printed as JSON lines:

    .venv/bin/python notes/scores_evidence.py

1. the session's `session_start` line (OBSERVABILITY_BACKENDS=langfuse,mlflow);
2. a feedback line sent on stdin, and a `claude-runner score` after the session;
3. the scores as Langfuse's contract reads them back (GET /api/public/v3/scores, the test model
   of the 2026-08 server) and as MLflow's own client reads them (get_trace().info.assessments,
   a real MLflow 3.17.2 server);
4. the exit time with one backend down (Langfuse hung, MLflow up; RUNNER_EXIT_BUDGET=3).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.harness import Runner
from tests.mlflow_server import MlflowServer, install_env
from tests.support.langfuse_server import LangfuseServer

from runner.offline import Usage, bash, text

U1 = Usage(input_tokens=120, output_tokens=31, cache_creation_input_tokens=900)
U2 = Usage(input_tokens=40, output_tokens=17, cache_read_input_tokens=900)


def show(label: str, value: object) -> None:
    print(f"## {label}")
    print(json.dumps(value, indent=None, default=str))
    sys.stdout.flush()


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="scores-evidence-"))
    (root / "mlflow").mkdir()
    (root / "run").mkdir()
    mlflow = MlflowServer(install_env(), root / "mlflow")
    mlflow.start()
    mlflow.warm()
    langfuse = LangfuseServer()
    experiment = mlflow.create_experiment("scores-evidence")
    backends = {
        "OTEL_SDK_DISABLED": None,
        "OTEL_METRICS_EXPORTER": "none",
        "OBSERVABILITY_BACKENDS": "langfuse,mlflow",
        "MLFLOW_TRACKING_URI": mlflow.url,
        "MLFLOW_EXPERIMENT_ID": experiment,
        "LANGFUSE_TRACING_ENVIRONMENT": "production",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
        **langfuse.env(),
    }
    runner = Runner(root / "run")
    try:
        session = runner.start(
            [bash("false", U1, match="fix"), text("Fixed it.", U2), text("Yes.", U2)],
            stdin=True,
            INTERACTIVE="true",
            PROMPT="fix the build",
            SESSION_ID="evidence-session",
            **backends,
        )
        start = session.wait_for("session_start")
        session.wait_for("result")
        session.send({"type": "user_message", "text": "are you sure?"})
        session.wait_until(lambda: len([e for e in session.events if e["type"] == "result"]) == 2)
        line = {"type": "feedback", "name": "user-feedback", "value": 1, "data_type": "BOOLEAN",
                "comment": "fixed my build", "query": 1}  # fmt: skip
        session.send(line)
        session.send({"type": "feedback", "value": 7, "data_type": "BOOLEAN"})  # a bad one
        session.send({"type": "end_session"})
        done = session.finish()
        show("session_start (stdout)", start)
        show("stdin feedback line", line)
        show("stdout feedback events", done.of_type("feedback") + done.of_type("input_error"))
        show("stderr: the trace and the scores lines", [
            ln.split(" ", 3)[-1] for ln in done.stderr.splitlines()
            if "trace " in ln or "scores" in ln or "skipped" in ln
        ])  # fmt: skip
        end = done.end
        show("session_end trace fields", {k: end[k] for k in ("trace_id", "trace_urls")})
        trace_id = start["trace_id"]

        command = [
            sys.executable,
            "-m",
            "runner",
            "score",
            "--trace-id",
            trace_id,
            "--name",
            "rubric",
            "--value",
            "4",
            "--data-type",
            "NUMERIC",
            "--comment",
            "good fix",
        ]
        scored = subprocess.run(command, env=runner.env("http://127.0.0.1:9", **backends),
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        show("claude-runner score", {
            "argv": ["claude-runner", *command[3:]], "exit": scored.returncode,
            "stderr": [ln.split(" ", 3)[-1] for ln in scored.stderr.splitlines()],
        })  # fmt: skip

        time.sleep(1)
        rows = langfuse.read_scores(trace_id, fields="core,details,subject")
        show("Langfuse v3 read-back (the contract's model)", [
            {k: r.get(k) for k in ("name", "dataType", "value", "environment", "comment",
                                   "subject")} for r in rows
        ])  # fmt: skip
        show("Langfuse: dropped by its worker", langfuse.scores.dropped)
        view = mlflow.read_back(experiment, trace_ids=[f"tr-{trace_id}"])
        show("MLflow MlflowClient.get_trace().info.assessments", [
            {k: a[k] for k in ("name", "value", "source_type", "span_id", "rationale")}
            for a in view["traces"][0]["assessments"]
        ])  # fmt: skip

        hung = LangfuseServer(mode="hang")
        experiment2 = mlflow.create_experiment("scores-evidence-down")
        down = {**backends, **hung.env(), "MLFLOW_EXPERIMENT_ID": experiment2,
                "RUNNER_EXIT_BUDGET": "3", "LANGFUSE_PROJECT_ID": "p"}  # fmt: skip
        slow = runner.run([text("Done.", U1)], SESSION_ID="evidence-down", **down)
        hung.stop()
        show("one backend down (Langfuse hung, MLflow up, RUNNER_EXIT_BUDGET=3)", {
            "exit_code": slow.code,
            "seconds_from_session_end_to_exit": round(slow.exit_after_end_s or -1, 2),
            "stderr": [ln.split(" ", 3)[-1] for ln in slow.stderr.splitlines()
                       if "delivered" in ln or "confirmed" in ln],
        })  # fmt: skip
    finally:
        langfuse.stop()
        mlflow.stop()


if __name__ == "__main__":
    main()
