"""The demo session: a short scripted conversation with two Bash tool calls, and the isolated
environment that keeps the real Claude Code CLI offline (it talks only to the local server)."""

from __future__ import annotations

from pathlib import Path

from runner.offline.script import Reply, Script, ToolUse, Usage, bash, text

DEMO_PROMPT = "Look around the workspace and tell me what is there."


def demo_script() -> Script:
    """Three LLM calls: a Bash call with text, a second Bash call, a final answer.
    Usage differs from call to call, as it does on a real session."""
    return Script(
        [
            bash(
                "echo 'hello from the demo' > notes.txt && ls -la",
                Usage(input_tokens=1200, output_tokens=85, cache_creation_input_tokens=3400),
                say="Let me create a file and look at the workspace.",
                delay_s=0.05,
            ),
            Reply(
                content=(ToolUse("Bash", {"command": "wc -c notes.txt", "description": "Count"}),),
                usage=Usage(input_tokens=180, output_tokens=42, cache_read_input_tokens=3400),
                delay_s=0.05,
            ),
            text(
                "The workspace holds notes.txt (20 bytes), which I just created.",
                Usage(input_tokens=95, output_tokens=38, cache_read_input_tokens=3620),
                delay_s=0.05,
            ),
        ]
    )


def offline_environment(base_url: str, root: Path) -> dict[str, str]:
    """Variables that point the CLI at `base_url` and give it a home of its own under `root`."""
    home = root / "home"
    for sub in ("home/.claude", "tmp", "run"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return {
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": "sk-ant-offline-demo-key-not-a-secret",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "TMPDIR": str(root / "tmp"),
        "XDG_RUNTIME_DIR": str(root / "run"),
    }


__all__ = ["DEMO_PROMPT", "demo_script", "offline_environment"]
