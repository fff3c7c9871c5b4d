"""The life of the session tree's nodes: shared state and the helpers every stage of the tree
builder uses — keys, starting and finishing nodes exactly once, pricing a call and adding it to
the totals of its query, subagent and session (or holding it when its model has no price)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from runner import pricing
from runner.otel.tree import (
    AgentNode,
    ChatNode,
    Node,
    QueryNode,
    Renderer,
    SessionNode,
)
from runner.types import Usage


class NodeLife:
    def __init__(
        self,
        renderer: Renderer,
        *,
        capture_content: bool = False,
        price: Callable[[str | None, Usage], pricing.CallCost | None] = pricing.price,
    ) -> None:
        self.renderer = renderer
        self.capture = capture_content
        self.price = price
        self.session: SessionNode | None = None
        self.query: QueryNode | None = None
        self._ids = itertools.count(1)
        self._windows: dict[str, int] = {}
        """Context windows Claude Code reported (model_usage), by model: they win."""
        self._by_message: dict[str | None, ChatNode] = {}
        """Open calls by message id (their content blocks arrive before message_stop)."""
        self._held: list[ChatNode] = []
        """Complete calls without a price, held to the query's end."""

    def _key(self, kind: str) -> str:
        return f"{kind}-{next(self._ids)}"

    def _start(self, node: Node) -> None:
        if not node.started:
            node.started = True
            self.renderer.start(node)

    def _finish(self, node: Node, end_ns: int) -> None:
        if node.finished:
            return
        node.finished = True
        node.end_ns = max(node.end_ns if node.end_ns is not None else end_ns, node.start_ns)
        self.renderer.finish(node)

    def _account(self, chat: ChatNode) -> None:
        """Add a complete call to the totals of its query, subagent and session."""
        cost = chat.cost
        if self.query is not None:
            self.query.totals.add(chat.usage, cost)
        if self.session is not None:
            self.session.totals.add(chat.usage, cost)
        if isinstance(chat.parent, AgentNode):
            chat.parent.totals.add(chat.usage, cost)

    def _complete_call(self, chat: ChatNode, at_ns: int) -> None:
        """A call's usage is final: price it and render it now (or hold it, unpriced)."""
        self._by_message.pop(chat.message_id, None)
        model = chat.model
        chat.context_window = self._windows.get(model or "") or pricing.context_window(model)
        if chat.error_type is None:
            cost = self.price(chat.model, chat.usage)
            if cost is None:
                self._held.append(chat)
                return
            chat.cost, chat.cost_source = cost, "price"
        self._account(chat)
        self._finish(chat, at_ns)
