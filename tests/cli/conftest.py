"""Fixtures of the CLI tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def desk(cli):
    """The CLI on an initialised database holding the shipped defaults (a test module may extend it)."""
    result = cli("init", "--quiet")
    assert result.exit_code == 0, result
    return cli
