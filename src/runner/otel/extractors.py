"""Pure functions from SDK message data to the values the model keeps. No tracer, no state."""

from __future__ import annotations

from runner.types import Usage


def merge_usage(current: Usage, delta: object) -> Usage:
    """message_delta carries the final output count (and, on some APIs, input counts)."""
    if not isinstance(delta, dict):
        return current
    update = {k: v for k, v in delta.items() if isinstance(v, int) and v >= 0}
    merged = {**current.as_dict(), **update}
    return Usage.from_dict(merged)


def max_usage(a: Usage, b: Usage) -> Usage:
    return Usage(
        max(a.input_tokens, b.input_tokens),
        max(a.output_tokens, b.output_tokens),
        max(a.cache_read_input_tokens, b.cache_read_input_tokens),
        max(a.cache_creation_input_tokens, b.cache_creation_input_tokens),
    )


def subagent_type(arguments: object) -> str:
    if isinstance(arguments, dict) and isinstance(arguments.get("subagent_type"), str):
        return str(arguments["subagent_type"])
    return "subagent"


def text_of(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for item in content:
            text = getattr(item, "text", None)
            if text is None and isinstance(item, dict):
                text = item.get("text")
            if isinstance(text, str):
                parts.append(text)
        return "\n".join(parts)
    return ""
