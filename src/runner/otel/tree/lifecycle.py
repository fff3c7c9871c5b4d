"""Starting and finishing the tree's nodes, each exactly once, never under a finished node and
never before its parent (a parent not started yet is started first).

Shared by the tree builder's parts (calls, tools, subagents, compactions): each part owns its
nodes' state; this owns only the renderer and the node keys.
"""

from __future__ import annotations

import itertools
import logging

from runner.otel.tree.nodes import Node, Renderer

log = logging.getLogger("runner.otel")


class Lifecycle:
    def __init__(self, renderer: Renderer, *, capture: bool) -> None:
        self.renderer = renderer
        self.capture = capture
        """Whether content (prompts, completions, tool I/O) is kept on nodes."""
        self._ids = itertools.count(1)
        self.moved = 0
        """Nodes that would have started under a finished node (put under its nearest open
        ancestor instead)."""

    def key(self, kind: str) -> str:
        return f"{kind}-{next(self._ids)}"

    def start(self, node: Node) -> None:
        if node.started or node.finished:
            return
        self._place(node)
        node.started = True
        self.renderer.start(node)

    def finish(self, node: Node, end_ns: int) -> None:
        """End a node (rendered whole when it never started)."""
        if node.finished:
            return
        if not node.started:
            self._place(node)
        node.finished = True
        node.end_ns = max(node.end_ns if node.end_ns is not None else end_ns, node.start_ns)
        self.renderer.finish(node)

    def _place(self, node: Node) -> None:
        parent = node.parent
        while parent is not None and parent.finished:
            parent = parent.parent
        if parent is not node.parent:
            self.moved += 1
            log.debug("%s would start under a finished node; put under %s", node.key, parent)
            node.parent = parent
        if parent is not None and not parent.started:
            self.start(parent)  # e.g. a subagent seen before its tool's PreToolUse: open it now
