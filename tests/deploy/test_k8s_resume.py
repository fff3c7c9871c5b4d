"""deploy/k8s/overlays/resumable keeps exactly what a resumed run needs (docs/resume.md) on a
claim that outlives the pod: the workspace (with the runner's record) and the CLI's transcripts."""

from __future__ import annotations

from typing import Any

from runner import environment_variables as ev
from runner.session.resume import RECORD_DIR
from tests.deploy.conftest import container, find


def test_the_workspace_and_the_transcripts_live_on_the_sessions_claim(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objects = rendered["resumable"]
    claim = find(objects, "PersistentVolumeClaim")
    job = find(objects, "Job")
    pod = job["spec"]["template"]["spec"]
    (state,) = [v for v in pod["volumes"] if "persistentVolumeClaim" in v]
    assert state["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert "emptyDir" not in state
    mounts = {m["mountPath"]: m for m in container(job)["volumeMounts"]}
    workspace = mounts["/workspace"]  # WORKSPACE_PATH: the record is under it
    assert workspace["name"] == state["name"] and workspace["subPath"] == "workspace"
    transcripts = mounts["/home/runner/.claude/projects"]  # $HOME/.claude = CLAUDE_CONFIG_DIR
    assert transcripts["name"] == state["name"] and transcripts["subPath"] == "claude-projects"
    env = {e["name"]: e.get("value") for e in container(job)["env"]}
    assert env[ev.WORKSPACE_PATH] == "/workspace" and RECORD_DIR == ".claude-runner"
    assert env[ev.IS_RESUME] == "false" and env[ev.RESUME_FALLBACK] == "fail"
