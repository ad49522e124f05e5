"""The weekly digest in `tgesc simulate`: a scenario whose configuration sets `[reports] digest` and whose week spans
that instant shows the `report_digest` event and, in the lead's private chat, the week's numbers and then the HTML
report as a file, once."""

from __future__ import annotations

import json
from pathlib import Path

SCENARIO = '''start = "2026-03-08T20:00:00+00:00"   # a Sunday evening
config = "digest.toml"

[customers.alice]
id = 1001
name = "Alice"

[staff.lena]
id = 5010
role = "lead"
tiers = ["L2"]

[[steps]]
at = "+0m"
customer = "alice"
text = "I was charged twice, I want a refund"

[[steps]]
at = "+14h"                              # Monday 10:00: the digest went out at 09:00
'''


def test_the_digest_goes_out_at_its_time_in_a_simulation(cli, tmp_path: Path):
    (tmp_path / "digest.toml").write_text('[reports]\ndigest = "mon 09:00"\n', encoding="utf-8")
    (tmp_path / "week.toml").write_text(SCENARIO, encoding="utf-8")
    result = cli("simulate", str(tmp_path / "week.toml"), "--json")
    assert result.exit_code == 0, result
    document = json.loads(result.stdout)
    [digest] = [e for e in document["events"] if e["kind"] == "report_digest"]
    assert digest["at"].startswith("2026-03-09T09:00") and digest["detail"]["to"] == ["lena"]
    to_lena = [m for m in document["messages"] if m["direction"] == "out" and m["chat"] == "lena"
               and m["at"].startswith("2026-03-09T09:00")]
    assert [m.get("file_name") for m in to_lena] == [None, "tgesc-report-2026-03-02.html"]
    assert to_lena[0]["text"].startswith("📊 The week 2026-03-02 – 2026-03-09\nTickets: 1 opened")
    text = cli("simulate", str(tmp_path / "week.toml"))
    assert "[document tgesc-report-2026-03-02.html]" in text.stdout
