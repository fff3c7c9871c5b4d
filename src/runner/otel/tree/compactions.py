"""The tree builder's part for context compaction: a `compaction` node under its query from the
CLI's `compacting` status to its `compact_boundary`, with why and the context's size before and
after. (The summary call Claude Code makes for it is the ledger's: an unobserved call.)"""

from __future__ import annotations

from runner.events.types import Compacted
from runner.otel.tree.lifecycle import Lifecycle
from runner.otel.tree.nodes import CompactionNode, QueryNode


class Compactions:
    def __init__(self, life: Lifecycle) -> None:
        self._life = life
        self._open: CompactionNode | None = None
        self.last: CompactionNode | None = None
        """The query's last compaction (its summary call links to it)."""

    def reset(self) -> None:
        self._open = self.last = None

    def started(self, query: QueryNode, at_ns: int) -> None:
        self._open = CompactionNode(key=self._life.key("compaction"), parent=query, start_ns=at_ns)
        self._life.start(self._open)

    def compacted(self, event: Compacted, query: QueryNode) -> None:
        node, self._open = self._open, None
        if node is None:
            took = (event.duration_ms or 0) * 1_000_000
            node = CompactionNode(
                key=self._life.key("compaction"), parent=query, start_ns=event.at_ns - took
            )
        node.trigger = event.trigger
        node.pre_tokens, node.post_tokens = event.pre_tokens, event.post_tokens
        self._life.finish(node, event.at_ns)
        self.last = node

    def end_query(self, failure: str | None, at_ns: int) -> None:
        """A compaction that started and was never reported done."""
        if self._open is not None:
            self._open.error_type = failure or "incomplete"
            self._life.finish(self._open, at_ns)
        self.reset()
