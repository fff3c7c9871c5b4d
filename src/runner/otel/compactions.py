"""Context compaction in the tree: a `compaction` node under its query from the CLI's
`compacting` status to its `compact_boundary`, an event on the query span, a count on the
session; and the context windows Claude Code reports, which win over the price database's."""

from __future__ import annotations

from runner.events import Compacted, CompactionStarted, QueryResult
from runner.otel.node_life import NodeLife
from runner.otel.tree import CompactionNode


class Compactions(NodeLife):
    _compaction: CompactionNode | None
    _last_compaction: CompactionNode | None

    def _compaction_started(self, event: CompactionStarted) -> None:
        self._compaction = CompactionNode(
            key=self._key("compaction"), parent=self.query, start_ns=event.at_ns
        )
        self._start(self._compaction)

    def _compacted(self, event: Compacted) -> None:
        node = self._compaction
        self._compaction = None
        if node is None:
            took = (event.duration_ms or 0) * 1_000_000
            node = CompactionNode(
                key=self._key("compaction"), parent=self.query, start_ns=event.at_ns - took
            )
        node.trigger = event.trigger
        node.pre_tokens, node.post_tokens = event.pre_tokens, event.post_tokens
        if self.session is not None:
            self.session.compactions += 1
        if self.query is not None:
            self.renderer.event(self.query, event)
        self._finish(node, event.at_ns)
        self._last_compaction = node

    def _query_result(self, event: QueryResult) -> None:
        for model, figures in event.model_usage.items():
            window = figures.get("contextWindow") if isinstance(figures, dict) else None
            if isinstance(window, int) and window > 0:
                self._windows[model] = window
