"""Small helpers shared by the tests (importable because pyproject puts tests/ on pytest's pythonpath)."""

from __future__ import annotations

import json
import re
from typing import Any


def ok_json(result) -> Any:
    """The JSON document a successful CLI call printed (fails the test, showing the output, otherwise)."""
    assert result.exit_code == 0, result
    return json.loads(result.stdout)


def cells(line: str) -> list[str]:
    """The cells of one row of a plain-text table (columns are separated by two or more spaces)."""
    return re.split(r"\s{2,}", line.strip())
