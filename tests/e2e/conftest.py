"""End-to-end fixtures: the real `claude-runner` process, the real SDK and Claude Code CLI,
against the scripted local Messages API server. Each run gets its own HOME and workspace."""

from __future__ import annotations

import pytest

from tests.e2e.harness import Runner


@pytest.fixture
def runner(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    return Runner(tmp_path_factory.mktemp("run"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
