"""The public surface is what __all__ says, and nothing in it is missing."""

from __future__ import annotations

import pytest

import runner
import runner.offline


@pytest.mark.parametrize("module", [runner, runner.offline])
def test_all_names_exist(module: object) -> None:
    names = module.__all__
    assert names == sorted(names, key=str)
    for name in names:
        assert hasattr(module, name), name
