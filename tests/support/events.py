"""Runner events for unit tests, built with every field a real one has."""

from __future__ import annotations

from runner.accounting.figures import LedgerCall
from runner.accounting.usage import Usage


def recorded_call(thread: str | None = None, message_id: str = "m") -> LedgerCall:
    """A call as the ledger records it (the test model, no usage)."""
    return LedgerCall(
        query=1, thread=thread, message_id=message_id, model="claude-sonnet-4-5", usage=Usage()
    )
