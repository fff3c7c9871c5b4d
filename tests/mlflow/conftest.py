"""The MLflow suite needs a real MLflow tracking server (scripts/mlflow-server installs it into a
venv of its own). Outside CI the suite skips when it cannot be installed; in CI it fails."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.mlflow_server import MlflowServer, install_env


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """One warmed server for the session (its tests share an xdist group, so one worker)."""
    try:
        env_path = install_env()
    except (RuntimeError, OSError) as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"MLflow could not be installed here: {exc}")
    server = MlflowServer(env_path, tmp_path_factory.mktemp("mlflow"))
    server.start()
    try:
        server.warm()
        yield server
    finally:
        server.stop()


@pytest.fixture
def experiment(mlflow_server: MlflowServer, request: pytest.FixtureRequest) -> str:
    """A fresh experiment per test: MLflow's cost views are per experiment."""
    return mlflow_server.create_experiment(request.node.name)
