"""Bytes of OTLP (protobuf, uncompressed) a real session sends on the OTel path to a local receiver:
run before and after applying notes/langfuse-metadata.diff (`.venv/bin/python notes/langfuse-metadata-bytes.py`)."""
import sys, json, tempfile
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parents[1]))
from pathlib import Path
from tests.otel.test_export_e2e import BASIC, _langfuse_env
from tests.otlp_receiver import OTLPHttpReceiver
from tests.e2e.harness import Runner
from tests.otel.test_langfuse_tracer import CASES
out = {}
for name in ("tools", "subagent"):
    r = OTLPHttpReceiver(auth=BASIC)
    try:
        done = Runner(Path(tempfile.mkdtemp())).run(CASES[name].script, **_langfuse_env(r.url), **CASES[name].env)
    finally:
        r.stop()
    body = sum(len(q.body) for q in r.requests if q.path.endswith("/v1/traces"))
    spans = len(r.spans("/api/public/otel/v1/traces"))
    out[name] = (spans, body)
print(json.dumps(out))
