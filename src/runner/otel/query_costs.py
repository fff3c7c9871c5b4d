"""The end of a query, for cost: calls Claude Code made but did not stream, calls of a model
without a price, and the check of every priced call against Claude Code's reported figure."""

from __future__ import annotations

import logging

from runner import pricing
from runner.otel.node_life import NodeLife
from runner.otel.tree import ChatNode, CompactionNode, QueryNode
from runner.types import QueryOutcome, Usage

log = logging.getLogger("runner.otel")
COST_TOLERANCE_USD = 1e-9


class QueryCosts(NodeLife):
    _reported_before: dict[str, Usage]
    _last_compaction: CompactionNode | None
    _warned_cost: bool

    def _add_unseen_calls(self, outcome: QueryOutcome | None, at_ns: int) -> None:
        """Calls Claude Code made but did not stream (a compaction's summary) become one chat
        node: its per-model totals since the last query, less every call seen."""
        if outcome is None or not outcome.model_usage or self.query is None:
            return
        now = {m: _reported_usage(u) for m, u in outcome.model_usage.items()}
        before, self._reported_before = self._reported_before, now
        grown = {m: u - before.get(m, Usage()) for m, u in now.items()}
        seen = sum((c.usage for c in self._held), self.query.totals.usage)  # held: unpriced
        unseen = sum(grown.values(), Usage()) - seen
        if min(unseen.as_dict().values(), default=0) < 0 or unseen.total_input_tokens == 0:
            return  # nothing unseen, or figures that do not line up: leave it to the check
        model = max(grown, key=lambda m: grown[m].total_input_tokens)
        owner = self._last_compaction if self._last_compaction is not None else self.query
        chat = ChatNode(
            key=self._key("chat"),
            parent=owner,
            start_ns=owner.start_ns,
            end_ns=owner.end_ns or at_ns,
            request_model=model,
            response_model=model,
            usage=unseen,
            observed=False,
        )
        self._complete_call(chat, chat.end_ns or at_ns)

    def _share_reported(self, outcome: QueryOutcome | None) -> None:
        """Calls without a price share what the reported figure leaves (or get 0)."""
        held, self._held = self._held, []
        if not held:
            return
        reported = outcome.cost_usd if outcome else None
        if reported is None:
            for chat in held:
                self._account(chat)
                self._finish(chat, chat.end_ns or chat.start_ns)
            return
        assert self.query is not None
        left = max(0.0, reported - self.query.totals.cost_usd)
        for chat, part in zip(held, pricing.share(left, [c.usage for c in held]), strict=True):
            chat.cost, chat.cost_source = pricing.CallCost(unsplit=part), "reported_share"
            self._account(chat)
            self._finish(chat, chat.end_ns or chat.start_ns)

    def _check_cost(self, query: QueryNode, outcome: QueryOutcome | None) -> None:
        reported = outcome.cost_usd if outcome else None
        if reported is None:
            return
        difference = reported - query.totals.cost_usd
        if abs(difference) <= max(COST_TOLERANCE_USD, reported * 1e-9):
            return
        query.cost_difference_usd = difference
        if not self._warned_cost:
            self._warned_cost = True
            log.warning(
                "telemetry: query %d: LLM calls priced at $%.6f, Claude Code reported $%.6f "
                "(difference $%.6f, on the query span as %s); prices come from genai-prices",
                query.index,
                query.totals.cost_usd,
                reported,
                difference,
                "agentic_session.cost.difference_usd",
            )


def _reported_usage(figures: object) -> Usage:
    """Claude Code's model_usage entry (camelCase) as a Usage."""
    raw = figures if isinstance(figures, dict) else {}
    return Usage.from_dict(
        {
            "input_tokens": raw.get("inputTokens"),
            "output_tokens": raw.get("outputTokens"),
            "cache_read_input_tokens": raw.get("cacheReadInputTokens"),
            "cache_creation_input_tokens": raw.get("cacheCreationInputTokens"),
            "cache_creation": {
                "ephemeral_1h_input_tokens": raw.get("cacheCreationEphemeral1hInputTokens")
            },
        }
    )
