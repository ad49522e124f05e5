"""docs/limits.md says the ranges the code checks: every range of tgesc.domain.limits appears in it with its
numbers (its `console` examples run with every docs page's, in test_readme)."""

from __future__ import annotations

from pathlib import Path

from tgesc.domain import limits
from tgesc.domain.durations import format_duration

LIMITS = Path(__file__).resolve().parent.parent / "docs" / "limits.md"


def test_every_range_of_whole_numbers_is_in_the_table():
    text = LIMITS.read_text(encoding="utf-8")
    ranges = [value for value in vars(limits).values() if isinstance(value, limits.WholeNumbers)]
    assert len(ranges) >= 10
    missing = [f"{numbers.what}: {numbers.low} to {numbers.high}" for numbers in ranges
               if f"| {numbers.low} to {numbers.high} |" not in text]
    assert missing == []


def test_the_other_limits_are_the_ones_the_code_checks():
    text = LIMITS.read_text(encoding="utf-8")
    said = [f"**`{format_duration(limits.MAX_DURATION)}`**", f"({limits.MAX_DURATION}", f"**{limits.MAX_TEXT}**",
            f"**{limits.MAX_NAME}**", f"**{limits.MAX_DISPLAY_NAME}**", f"**{limits.MAX_ARGUMENT}**",
            f"at most **{limits.MAX_ZONE}** characters", f"**{limits.EARLIEST:%Y-%m-%d}**",
            f"**{limits.LATEST:%Y-%m-%d}**", f"**{limits.MAX_FILE_BYTES // 2**20} MiB**",
            f"at most **{limits.MAX_NESTING}** levels", f"**{limits.MAX_DURATION // 60}**"]
    assert [phrase for phrase in said if phrase not in text] == []
