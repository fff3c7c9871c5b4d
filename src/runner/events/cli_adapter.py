"""The CLI adapter: the one place the Claude Code CLI's own telemetry (relayed by
runner.cli_telemetry) is interpreted, as runner events.

Measured on CLI 2.1.332 (docs/cli-telemetry.md; tests/data/cli_telemetry holds the captures):
- `claude_code.llm_request`: one per Messages API call, with the raw usage, `query_source_safe`
  and, inside a subagent, `agent_id` → `CliCallReported`;
- `claude_code.tool` (with `tool_use_id`, the runner's id) and its children
  `claude_code.tool.blocked_on_user` (`decision`, `source`) and `claude_code.tool.execution`
  (absent for a refused tool); children end, and may be exported, before their parent →
  `CliToolReported` once the parent arrives;
- hooks only as log events (`hook_execution_complete`) → `CliHookRan`;
- `claude_code.interaction` is one per message the CLI handles (not a query) and the other log
  events repeat the spans: no event. Unknown names yield nothing (a newer CLI never breaks it).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping

from runner.accounting.usage import Usage
from runner.cli_telemetry import CliLogEvent, CliRecord, CliSpan
from runner.events.types import CliCallReported, CliHookRan, CliToolReported, RunnerEvent, Thread

MAX_ORPHANS = 1024
"""Child spans kept while their tool span has not arrived (oldest dropped beyond)."""


class CliAdapter:
    def __init__(self, thread_of: Callable[[str | None], Thread]) -> None:
        self._thread_of = thread_of
        self._children: OrderedDict[int, list[CliSpan]] = OrderedDict()

    def from_record(self, record: CliRecord, at_ns: int) -> list[RunnerEvent]:
        if isinstance(record, CliLogEvent):
            return self._log_event(record, at_ns)
        name = record.name
        if name == "claude_code.llm_request":
            return [self._call(record, at_ns)]
        if name in ("claude_code.tool.blocked_on_user", "claude_code.tool.execution"):
            if record.parent_span_id is not None:
                self._children.setdefault(record.parent_span_id, []).append(record)
                while len(self._children) > MAX_ORPHANS:
                    self._children.popitem(last=False)
            return []
        if name == "claude_code.tool":
            return self._tool(record, at_ns)
        return []

    def _call(self, span: CliSpan, at_ns: int) -> CliCallReported:
        a = span.attributes
        agent_id = _str(a, "agent_id")
        return CliCallReported(
            thread=self._thread_of(agent_id) if agent_id else None,
            source=_str(a, "query_source_safe") or "unknown",
            model=_str(a, "gen_ai.response.model") or _str(a, "model"),
            usage=Usage(
                input_tokens=_int(a, "input_tokens") or 0,
                output_tokens=_int(a, "output_tokens") or 0,
                cache_read_input_tokens=_int(a, "cache_read_tokens") or 0,
                cache_creation_input_tokens=_int(a, "cache_creation_tokens") or 0,
            ),
            stop_reason=_str(a, "stop_reason"),
            success=a.get("success") is not False and span.status != "error",
            attempt=_int(a, "attempt"),
            ttft_ms=_int(a, "ttft_ms"),
            duration_ms=_int(a, "duration_ms"),
            speed=_str(a, "speed"),
            context=_str(a, "llm_request.context"),
            start_ns=span.start_ns,
            end_ns=span.end_ns,
            at_ns=at_ns,
        )

    def _tool(self, span: CliSpan, at_ns: int) -> list[RunnerEvent]:
        a = span.attributes
        tool_use_id = _str(a, "tool_use_id") or _str(a, "gen_ai.tool.call.id")
        children = self._children.pop(span.span_id, [])
        if not tool_use_id:
            return []
        blocked = next((c for c in children if c.name.endswith("blocked_on_user")), None)
        execution = next((c for c in children if c.name.endswith("execution")), None)
        b = blocked.attributes if blocked is not None else {}
        e = execution.attributes if execution is not None else {}
        success = e.get("success")
        return [
            CliToolReported(
                tool_use_id=tool_use_id,
                decision=_str(b, "decision"),
                decision_source=_str(b, "source"),
                blocked_ms=_int(b, "duration_ms"),
                execution_ms=_int(e, "duration_ms"),
                success=success if isinstance(success, bool) else None,
                command_class=_str(a, "bash_command_class"),
                at_ns=at_ns,
            )
        ]

    def _log_event(self, event: CliLogEvent, at_ns: int) -> list[RunnerEvent]:
        a = event.attributes
        if not event.name.endswith("hook_execution_complete"):
            return []
        return [
            CliHookRan(
                hook_event=_str(a, "hook_event") or "unknown",
                hook_name=_str(a, "hook_name"),
                hooks=_int(a, "num_hooks"),
                succeeded=_int(a, "num_success"),
                blocking=_int(a, "num_blocking"),
                duration_ms=_int(a, "total_duration_ms"),
                at_ns=at_ns,
            )
        ]


def _str(attributes: Mapping[str, object], key: str) -> str | None:
    value = attributes.get(key)
    return value if isinstance(value, str) and value else None


def _int(attributes: Mapping[str, object], key: str) -> int | None:
    value = attributes.get(key)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
