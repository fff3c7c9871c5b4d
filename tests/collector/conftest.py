"""The collector suite needs our collector build (scripts/otelcol, Go). In CI it is never
skipped: a failed build fails the suite."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.collector_process import Collector, build_collector


@pytest.fixture(scope="session")
def otelcol() -> Path:
    try:
        return build_collector()
    except RuntimeError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"our collector could not be built here: {exc}")


StartCollector = Callable[..., Collector]


@pytest.fixture
def collector(otelcol: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartCollector]:
    started: list[Collector] = []

    def start(config: str = "config.yaml", *, run: bool = True, **env: str) -> Collector:
        workdir = tmp_path_factory.mktemp("otelcol")
        instance = Collector(otelcol, config, workdir, env)
        started.append(instance)
        return instance.start() if run else instance

    yield start
    for instance in started:
        instance.kill()
