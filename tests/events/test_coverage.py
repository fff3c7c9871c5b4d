"""Every consumer of runner events decides what to do with every event kind.

Each consumer dispatches in one `match` ending in `assert_never`: mypy names a consumer that
forgot a new kind, and this test fails at run time until each has a case for it (handled, or
explicitly ignored). Adding an event kind is one class in runner.events.types plus one case per
consumer listed here.
"""

from __future__ import annotations

import dataclasses
import io
import typing
from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from runner.accounting.figures import LedgerCall
from runner.accounting.usage import Usage
from runner.config import Tenancy
from runner.events import types as events
from runner.events.types import RunnerEvent
from runner.ledger.ledger import Ledger
from runner.otel.attributes.content import ContentPolicy
from runner.otel.span_renderer import SpanRenderer
from runner.otel.telemetry_worker import model_is_answering
from runner.otel.tree.builder import TreeBuilder
from runner.output.stdout_events import EventWriter
from runner.redaction import Redactor
from runner.session.api_retries import RetryWatch
from runner.session.query_watch import QueryWatch
from runner.session.types import QueryStart, SessionStart

KINDS = typing.get_args(RunnerEvent)

SAMPLES: dict[type, Any] = {
    int: 1,
    str: "x",
    bool: False,
    Usage: Usage(input_tokens=1),
    dict: {},
    tuple: (),
    object: "x",
    LedgerCall: LedgerCall(query=1, thread=None, message_id="m", model="m", usage=Usage()),
}


def sample(kind: type) -> RunnerEvent:
    """An instance of an event kind, every field filled with a value of its type."""
    hints = typing.get_type_hints(kind)
    values = {}
    for field in dataclasses.fields(kind):
        hint = hints[field.name]
        origin = typing.get_origin(hint) or hint
        if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            values[field.name] = None
            continue
        values[field.name] = SAMPLES.get(origin, SAMPLES.get(hint))
    event: RunnerEvent = kind(**values)
    return event


def _tree_builder() -> Callable[[RunnerEvent], object]:
    tracer = TracerProvider().get_tracer("t")
    builder = TreeBuilder(SpanRenderer(tracer, ContentPolicy(False, Redactor()), attach=False))
    builder.on_session_start(
        SessionStart(
            session_id="s",
            model="m",
            interactive=False,
            workspace="/w",
            tenancy=Tenancy(),
            prompt="p",
            at_ns=1,
        )
    )
    builder.on_query_start(QueryStart(index=1, prompt="p", at_ns=2))
    return builder.on_event


def _ledger() -> Callable[[RunnerEvent], object]:
    ledger = Ledger(session_model="m")
    ledger.start_query(1)
    return lambda event: ledger.follow([event])


CONSUMERS: dict[str, Callable[[], Callable[[RunnerEvent], object]]] = {
    "the ledger": _ledger,
    "the tree builder": _tree_builder,
    "the stdout writer": lambda: EventWriter(io.StringIO(), Redactor()).on_event,
    "the session driver": lambda: lambda event: QueryWatch(RetryWatch()).react(event, 0.0),
    "the telemetry worker's start": lambda: model_is_answering,
}


def test_the_event_union_lists_every_event_class() -> None:
    classes = {
        obj
        for obj in vars(events).values()
        if dataclasses.is_dataclass(obj)
        and isinstance(obj, type)
        and obj.__module__ == events.__name__
    }
    assert classes == set(KINDS)


@pytest.mark.parametrize("consumer", sorted(CONSUMERS))
@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_every_consumer_decides_about_every_event_kind(consumer: str, kind: type) -> None:
    handle = CONSUMERS[consumer]()
    try:
        handle(sample(kind))
    except AssertionError as exc:  # assert_never: the match has no case for this kind
        pytest.fail(f"{consumer} has no case for {kind.__name__}: add one ({exc})")


def test_event_classes_are_frozen_and_keyword_only() -> None:
    for kind in KINDS:
        params = kind.__dataclass_params__
        assert params.frozen, kind.__name__
        assert all(f.kw_only for f in dataclasses.fields(kind)), kind.__name__
