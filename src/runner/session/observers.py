"""Fan one session stream out to several observers, isolating each from the others' failures.

An observer that raises is logged once (with its traceback at DEBUG) and then skipped for the
rest of the session: a broken observer (telemetry above all) never fails or stalls the session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from runner.events.types import RunnerEvent
from runner.session.types import (
    QueryOutcome,
    QueryStart,
    SessionObserver,
    SessionOutcome,
    SessionStart,
)

log = logging.getLogger("runner")


class ObserverGroup:
    """A SessionObserver that forwards every call to each member, in order."""

    def __init__(self, observers: Sequence[SessionObserver]) -> None:
        self._observers = list(observers)
        self._broken: set[int] = set()

    def _each(self, call: Callable[[SessionObserver], None], final: bool = False) -> None:
        for index, observer in enumerate(self._observers):
            # on_session_end still reaches a broken observer: it is its chance to end spans.
            if index in self._broken and not final:
                continue
            try:
                call(observer)
            except Exception as exc:
                if index not in self._broken:
                    self._broken.add(index)
                    log.warning(
                        "%s failed (%s: %s); it is skipped for the rest of the session",
                        type(observer).__name__,
                        type(exc).__name__,
                        exc,
                    )
                    log.debug("observer failure", exc_info=True)

    def on_session_start(self, event: SessionStart) -> None:
        self._each(lambda o: o.on_session_start(event))

    def on_query_start(self, event: QueryStart) -> None:
        self._each(lambda o: o.on_query_start(event))

    def on_event(self, event: RunnerEvent) -> None:
        self._each(lambda o: o.on_event(event))

    def on_query_end(self, event: QueryOutcome) -> None:
        self._each(lambda o: o.on_query_end(event))

    def on_session_end(self, event: SessionOutcome) -> None:
        self._each(lambda o: o.on_session_end(event), final=True)
