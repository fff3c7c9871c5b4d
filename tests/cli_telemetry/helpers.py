"""Shared by the relay's tests: a thread-safe sink that keeps what it gets, and a bounded wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from runner.cli_telemetry import CliLogEvent, CliRecord, CliSpan


@dataclass
class Collected:
    records: list[CliRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, record: CliRecord) -> None:
        with self._lock:
            self.records.append(record)

    @property
    def spans(self) -> list[CliSpan]:
        with self._lock:
            return [r for r in self.records if isinstance(r, CliSpan)]

    @property
    def logs(self) -> list[CliLogEvent]:
        with self._lock:
            return [r for r in self.records if isinstance(r, CliLogEvent)]


def wait_for(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Poll `condition` until it holds or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
