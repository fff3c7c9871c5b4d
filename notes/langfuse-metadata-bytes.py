"""Bytes of OTLP (protobuf, uncompressed) a real session sends on the OTel path to a local
receiver: run before and after applying notes/langfuse-metadata.diff
(`.venv/bin/python notes/langfuse-metadata-bytes.py`)."""

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from tests.e2e.harness import Runner
from tests.otel.test_export_e2e import BASIC, _langfuse_env
from tests.otel.test_langfuse_tracer import CASES
from tests.otlp_receiver import OTLPHttpReceiver

out = {}
for name in ("tools", "subagent"):
    receiver = OTLPHttpReceiver(auth=BASIC)
    case = CASES[name]
    try:
        Runner(Path(tempfile.mkdtemp())).run(case.script, **_langfuse_env(receiver.url), **case.env)
    finally:
        receiver.stop()
    body = sum(len(r.body) for r in receiver.requests if r.path.endswith("/v1/traces"))
    out[name] = (len(receiver.spans("/api/public/otel/v1/traces")), body)
print(json.dumps(out))  # {"case": [spans, bytes]}
