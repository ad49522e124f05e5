"""The HTML report: the report document as one self-contained page, for a lead who would rather look than read.

`render(document)` returns the whole page: a header (title, period, zone, when it was made), the summary numbers
as small tables, and the charts: tickets per day, first-response and resolution times against the SLA, SLA met
per priority, ratings per tier, escalations by trigger. A part of the document with nothing in it gets a
sentence saying so instead of its chart, so an empty desk gives a sensible page.

The document (instants as ISO 8601 text, durations in seconds; every list may be empty, every part missing):
`title`, `since`, `until`, `generated_at`, `zone`; `summary` (what `tgesc report summary --json` prints);
`per_day` [{day, opened, resolved, escalated}]; `durations` {first_response, resolution: [{seconds, priority,
budget_s, breached}]} (business time, up to ~10,000 each); `sla_by_priority` [{priority, clock, met, breached,
met_pct}]; `ratings_by_tier` [{tier, answered, average, distribution {"1".."5"}}]; `escalations_by_trigger`
{trigger: count}.

Self-contained: plotly.js, shipped inside the plotly wheel, is inlined once (only when there is a chart), and
each chart is a `Plotly.newPlot` call on its data; the page loads nothing when it is viewed. Its Content
Security Policy says so too: no source at all (`default-src 'none'`), scripts only those of the page, by hash.
Every text from the document is escaped (tabulate and `html.escape` in the page, `charts._text` in the charts;
the charts' JSON escapes `<`, `>` and `/`). The same document always gives the same page.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import plotly.graph_objects as go
from plotly.io.json import to_json_plotly
from plotly.offline import get_plotlyjs
from tabulate import tabulate

from tgesc.domain.durations import format_duration
from tgesc.services.reports import charts

PLOT_CONFIG = {"responsive": True, "displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}
NONE = "–"
STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem; color: #1f2933; }
header { border-bottom: 1px solid #d9dee3; margin-bottom: 1rem; }
h1 { margin: 0.2rem 0; font-size: 1.6rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 0.3rem; }
.period { color: #52606d; margin: 0.2rem 0 0.8rem; }
.numbers { display: flex; flex-wrap: wrap; gap: 1rem 2rem; align-items: flex-start; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #e4e7eb; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f5f7fa; }
.caption { color: #52606d; margin: 0 0 0.3rem; font-size: 0.9rem; }
.no-data { color: #7b8794; font-style: italic; padding: 1rem; background: #f5f7fa; border-radius: 4px; }
.plot { min-height: 200px; }
"""


@dataclass(frozen=True)
class Chart:
    """One chart section: its element id, heading, the sentence above it, and its figure (None: nothing to draw)."""

    key: str
    heading: str
    caption: str
    figure: go.Figure | None
    empty: str


def render(document: Mapping[str, Any]) -> str:
    """The whole HTML page of a report document (see the module docstring)."""
    sections = _charts(document)
    scripts = [_plot_script(chart) for chart in sections if chart.figure is not None]
    if scripts:
        scripts.insert(0, _plotlyjs())
    body = "\n".join([_header(document), _summary(document.get("summary") or {}),
                      *(_section(chart) for chart in sections)])
    return _page(str(document.get("title") or "tgesc report"), body, scripts)


def _page(title: str, body: str, scripts: Sequence[str]) -> str:
    """The page around `body`: the plotly.js script first, each chart's script after the body, all by hash."""
    hashes = " ".join(f"'sha256-{_digest(script)}'" for script in scripts) or "'none'"
    policy = (f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; "
              "img-src data: blob:; base-uri 'none'; form-action 'none'")
    head_script = f"<script>{scripts[0]}</script>" if scripts else ""
    tail = "\n".join(f"<script>{script}</script>" for script in scripts[1:])
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n{head_script}\n</head>\n"
            f"<body>\n{body}\n{tail}\n</body>\n</html>\n")


def _header(document: Mapping[str, Any]) -> str:
    zone = str(document.get("zone") or "UTC")
    since, until = (_when(document.get(key), zone) for key in ("since", "until"))
    made = _when(document.get("generated_at"), zone)
    return (f"<header>\n<h1>{html.escape(str(document.get('title') or 'tgesc report'))}</h1>\n"
            f'<p class="period">{since} – {until} ({html.escape(zone)}) · generated {made}</p>\n</header>')


def _when(value: Any, zone: str) -> str:
    """An ISO 8601 instant as `2026-03-02 09:30` in `zone`; as given (escaped) when either cannot be read."""
    if not value:
        return NONE
    try:
        return datetime.fromisoformat(str(value)).astimezone(_zone(zone)).strftime("%Y-%m-%d %H:%M")
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return html.escape(str(value))


@functools.cache
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


# --- the summary numbers -------------------------------------------------------------------------


def _summary(summary: Mapping[str, Any]) -> str:
    tables = [_tickets_table(summary.get("tickets") or {}), _times_table(summary),
              _sla_table(summary.get("sla") or {}), _feedback_table(summary)]
    return ('<section id="summary">\n<h2>Summary</h2>\n<div class="numbers">\n' + "\n".join(tables)
            + "\n</div>\n</section>")


def _tickets_table(tickets: Mapping[str, Any]) -> str:
    rows = [(label, _count(tickets.get(key))) for key, label in (
        ("opened", "Opened"), ("resolved", "Resolved"), ("closed", "Closed"), ("reopened", "Reopened"),
        ("open_now", "Open now"))]
    return _table(["Tickets", ""], rows)


def _times_table(summary: Mapping[str, Any]) -> str:
    rows = []
    for key, label in (("first_response", "First response"), ("resolution", "Resolution")):
        times = summary.get(key) or {}
        measured = bool(times.get("count"))
        rows.append((label, _count(times.get("count")),
                     *(_duration(times.get(k)) if measured else NONE
                       for k in ("median_s", "p90_s", "business_median_s"))))
    return _table(["Times", "Measured", "Median", "90th percentile", "Median, business time"], rows)


def _sla_table(sla: Mapping[str, Any]) -> str:
    rows = [(charts.CLOCK_NAMES.get(clock, html.escape(str(clock))), _count(cell.get("met")),
             _count(cell.get("breached")), _pct(cell.get("met_pct")) if _clocks(cell) else NONE)
            for clock, cell in sorted(sla.items(), key=lambda item: charts.clock_order(item[0]))]
    return _table(["SLA", "Met", "Breached", "Met %"], rows)


def _feedback_table(summary: Mapping[str, Any]) -> str:
    csat = summary.get("csat") or {}
    follow_up = summary.get("follow_up") or {}
    stars = csat.get("distribution") or {}
    rows = [("Escalations", _count((summary.get("escalations") or {}).get("total"))),
            ("Surveys sent", _count(csat.get("sent"))), ("Surveys answered", _count(csat.get("answered"))),
            ("Average rating", f"{csat['average']:.2f} ★" if csat.get("answered") and csat.get("average") else NONE),
            ("Ratings 1–5 ★", " · ".join(_count(stars.get(str(n))) for n in range(1, 6))),
            ("Escalated and resolved", _count(follow_up.get("escalated_resolved"))),
            ("… of them answered the survey", _count(follow_up.get("answered"))),
            ("Follow-up rate", _pct(follow_up.get("rate_pct")) if follow_up.get("escalated_resolved") else NONE)]
    return _table(["Escalations and surveys", ""], rows)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An HTML table; tabulate escapes every cell."""
    return tabulate(rows, headers=list(headers), tablefmt="html", disable_numparse=True)


def _clocks(cell: Mapping[str, Any]) -> int:
    return (cell.get("met") or 0) + (cell.get("breached") or 0)


def _count(value: Any) -> str:
    return NONE if value is None else f"{value:,}"


def _duration(seconds: Any) -> str:
    return NONE if seconds is None else format_duration(round(seconds))


def _pct(value: Any) -> str:
    return NONE if value is None else f"{value:.1f} %"


# --- the charts ----------------------------------------------------------------------------------


def _charts(document: Mapping[str, Any]) -> list[Chart]:
    durations = document.get("durations") or {}
    return [
        Chart("tickets-per-day", "Tickets per day", "Opened, resolved and escalated each day.",
              charts.tickets_per_day(document.get("per_day") or []),
              "No ticket was opened, resolved or escalated in this period."),
        *(_duration_chart(clock, heading, durations.get(clock) or [])
          for clock, heading in (("first_response", "First response against the SLA"),
                                 ("resolution", "Resolution against the SLA"))),
        Chart("sla-by-priority", "SLA met per priority",
              "The share of each clock that met its SLA, per priority (hover for the counts).",
              charts.sla_met_by_priority(document.get("sla_by_priority") or []),
              "No SLA clock ended in this period."),
        Chart("ratings-by-tier", "Ratings per tier",
              "Each tier's survey answers by stars, as shares of its answers; its average and count in its name.",
              charts.ratings_by_tier(document.get("ratings_by_tier") or []),
              "No survey was answered in this period."),
        Chart("escalations-by-trigger", "Escalations by trigger", "How many escalations each trigger made.",
              charts.escalations_by_trigger(document.get("escalations_by_trigger") or {}),
              "No ticket was escalated in this period."),
    ]


def _duration_chart(clock: str, heading: str, entries: Sequence[Mapping[str, Any]]) -> Chart:
    breached = sum(1 for entry in entries if entry.get("breached"))
    caption = (f"{len(entries):,} measured, {breached:,} breached ({100 * breached / max(len(entries), 1):.1f} %). "
               "In business time, one histogram per priority, its SLA budget the dashed line; "
               "the hatched last bar gathers the longest.")
    return Chart(clock.replace("_", "-"), heading, caption, charts.durations_against_sla(entries),
                 f"No {charts.CLOCK_NAMES[clock].lower()} clock ended in this period.")


def _section(chart: Chart) -> str:
    body = (f'<p class="caption">{html.escape(chart.caption)}</p>\n<div id="chart-{chart.key}" class="plot"></div>'
            if chart.figure is not None else f'<p class="no-data">{html.escape(chart.empty)}</p>')
    return f'<section id="{chart.key}">\n<h2>{html.escape(chart.heading)}</h2>\n{body}\n</section>'


def _plot_script(chart: Chart) -> str:
    """`Plotly.newPlot` of the chart's figure; the JSON escapes `<`, `>` and `/`, so no text ends the script."""
    figure = {**chart.figure.to_plotly_json(), "config": PLOT_CONFIG}
    return f'Plotly.newPlot("chart-{chart.key}", {to_json_plotly(figure)});'


@functools.cache
def _plotlyjs() -> str:
    return get_plotlyjs()


def _digest(script: str) -> str:
    return base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()

