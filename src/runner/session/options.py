"""The Claude Agent SDK's options for a session, from the runner's config: the model, the
workspace, tools and permissions, the hooks the driver listens to, and the CLI's environment
(with the defaults a Job needs, each left to the operator when the environment sets it)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from runner.config import RunnerConfig

if TYPE_CHECKING:
    from claude_agent_sdk import ClaudeAgentOptions

HOOK_EVENTS = ("PreToolUse", "PostToolUse", "PostToolUseFailure", "SubagentStart", "SubagentStop")
CLI_DEFAULTS = {
    # No auto-update or error-reporting traffic from a Job.
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    # Claude Code's own word on when a query is done (runner.session.query_watch).
    "CLAUDE_CODE_EMIT_SESSION_STATE_EVENTS": "1",
}
"""Set for the CLI unless the operator's environment sets them."""

Hook = Callable[[Any, str | None, Any], Awaitable[dict[str, Any]]]


def agent_options(
    config: RunnerConfig,
    hook: Hook,
    stderr: Callable[[str], None],
    *,
    resume: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> ClaudeAgentOptions:
    """`hook` takes every hook event of HOOK_EVENTS; `resume`: a Claude Code session id."""
    from claude_agent_sdk import ClaudeAgentOptions, HookMatcher

    callback: Any = hook  # the SDK types each hook's input; one callback takes all
    hooks: dict[Any, list[HookMatcher]] = {
        name: [HookMatcher(hooks=[callback])] for name in HOOK_EVENTS
    }
    outside = os.environ if environ is None else environ
    env = dict(config.cli_env)
    for name, value in CLI_DEFAULTS.items():
        if name not in outside:
            env.setdefault(name, value)
    return ClaudeAgentOptions(
        model=config.model,
        cwd=str(config.workspace),
        allowed_tools=list(config.allowed_tools),
        permission_mode=config.permission_mode,
        max_turns=config.max_turns,
        max_budget_usd=config.max_budget_usd,
        include_partial_messages=True,
        hooks=hooks,
        env=env,
        stderr=stderr,
        resume=resume,
    )
