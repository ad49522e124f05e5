"""The HTML report's charts as plotly figures, one function per chart, each from its part of the report document.

Each function returns a `plotly.graph_objects.Figure`, or None when its part of the document holds nothing to
draw (the page then says so in words). Texts that come from data (priorities, tiers, triggers: an operator names
them) go into the figures escaped (`_text`): plotly.js reads a little HTML in its labels (`<b>`, `<a href>`) and
shows entities as the characters they stand for, so an escaped name is shown exactly as it was written.
Everything is ordered (priorities most urgent first, then by name; triggers by count, then name), so the same
document always gives the same figures.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from tgesc.domain.durations import format_duration
from tgesc.domain.sla import CLOCKS
from tgesc.domain.vocabulary import PRIORITIES
from tgesc.services.reports.bins import Scale, counts, scale_for

HEIGHT = 380
FACET_BASE, FACET_HEIGHT, FACET_GAP = 60, 210, 80  # pixels: a histogram per priority
BUDGET_LINE = {"color": "#1f2933", "dash": "dash", "width": 2}
TEMPLATE = "plotly_white"
PRIORITY_COLOURS = {"urgent": "#d62728", "high": "#ff7f0e", "medium": "#1f77b4", "low": "#7f7f7f"}
OTHER_COLOURS = ("#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#2ca02c")
CLOCK_NAMES = {"first_response": "First response", "next_response": "Next response", "resolution": "Resolution"}
CLOCK_COLOURS = {"first_response": "#4c78a8", "next_response": "#72b7b2", "resolution": "#f58518"}
STAR_COLOURS = {"1": "#d73027", "2": "#fc8d59", "3": "#fee08b", "4": "#91cf60", "5": "#1a9850"}
DAY_SERIES = (("opened", "Opened", "#4c78a8"), ("resolved", "Resolved", "#54a24b"),
              ("escalated", "Escalated", "#e45756"))


def tickets_per_day(per_day: Sequence[Mapping[str, Any]]) -> go.Figure | None:
    """Tickets opened, resolved and escalated each day, side by side."""
    if not per_day:
        return None
    days = [_text(row["day"]) for row in per_day]
    figure = go.Figure([go.Bar(x=days, y=[row.get(key, 0) for row in per_day], name=name, marker_color=colour,
                               hovertemplate="%{x}: %{y}<extra>" + name + "</extra>")
                        for key, name, colour in DAY_SERIES])
    return _styled(figure, barmode="group", xaxis={"type": "category", "title": {"text": "day"}},
                   yaxis={"title": {"text": "tickets"}, "rangemode": "tozero"})


def durations_against_sla(entries: Sequence[Mapping[str, Any]]) -> go.Figure | None:
    """One histogram per priority (each on its own scale: 15 minutes and 4 hours do not share an axis) of a
    clock's durations, its SLA budget a dashed line; a hatched last bar gathers the long tail."""
    if not entries:
        return None
    by_priority = _group(entries, "priority")
    height = FACET_BASE + FACET_HEIGHT * len(by_priority)
    figure = make_subplots(rows=len(by_priority), cols=1, vertical_spacing=FACET_GAP / height,
                           subplot_titles=[_facet_title(p, rows) for p, rows in by_priority.items()])
    for row, (priority, rows) in enumerate(by_priority.items(), start=1):
        _add_facet(figure, row, priority, rows)
    return _styled(figure, showlegend=False, bargap=0.05, height=height, margin={"l": 60, "r": 20, "t": 40, "b": 40})


def sla_met_by_priority(rows: Sequence[Mapping[str, Any]]) -> go.Figure | None:
    """The share of clocks that met the SLA, per priority, one bar per clock."""
    measured = [row for row in rows if row.get("met", 0) + row.get("breached", 0) > 0]
    if not measured:
        return None
    priorities = _ordered_priorities(row["priority"] for row in measured)
    by_clock = _group(measured, "clock")
    bars = []
    for clock in sorted(by_clock, key=clock_order):
        cells = {row["priority"]: row for row in by_clock[clock]}
        shown = [p for p in priorities if p in cells]
        bars.append(go.Bar(
            x=[_text(p) for p in shown], y=[cells[p]["met_pct"] for p in shown],
            text=[f"{cells[p]['met_pct']:.0f} %" for p in shown], textposition="outside",
            customdata=[[cells[p]["met"], cells[p]["met"] + cells[p]["breached"]] for p in shown],
            hovertemplate="%{x}: %{y:.1f} % met (%{customdata[0]} of %{customdata[1]})<extra>%{fullData.name}</extra>",
            name=CLOCK_NAMES.get(clock, _text(clock)), marker_color=CLOCK_COLOURS.get(clock, "#9d755d")))
    return _styled(go.Figure(bars), barmode="group", xaxis={"type": "category", "title": {"text": "priority"}},
                   yaxis={"title": {"text": "SLA met (%)"}, "range": [0, 110]})


def ratings_by_tier(tiers: Sequence[Mapping[str, Any]]) -> go.Figure | None:
    """Each tier's survey answers as one bar split by stars (shares of its answers), its average in its name."""
    rated = [tier for tier in tiers if tier.get("answered", 0) > 0]
    if not rated:
        return None
    names = [f"{_text(t['tier'])} · {t.get('average', 0):.1f}★ · {t['answered']} answers" for t in rated]
    bars = []
    for stars, colour in STAR_COLOURS.items():
        answers = [t.get("distribution", {}).get(stars, 0) for t in rated]
        bars.append(go.Bar(
            y=names, x=[100 * n / t["answered"] for n, t in zip(answers, rated, strict=True)], customdata=answers,
            orientation="h", name=f"{stars}★", marker_color=colour,
            hovertemplate="%{customdata} answers (%{x:.0f} %)<extra>" + f"{stars}★</extra>"))
    return _styled(go.Figure(bars), barmode="stack", height=max(200, 90 + 60 * len(rated)),
                   xaxis={"title": {"text": "share of answers (%)"}, "range": [0, 100]},
                   yaxis={"type": "category", "autorange": "reversed"})


def escalations_by_trigger(by_trigger: Mapping[str, int]) -> go.Figure | None:
    """How many escalations each trigger made, most first."""
    found = sorted(((count, trigger) for trigger, count in by_trigger.items() if count), key=lambda t: (-t[0], t[1]))
    if not found:
        return None
    bar = go.Bar(y=[_text(trigger) for _, trigger in found], x=[count for count, _ in found], orientation="h",
                 marker_color="#e45756", text=[count for count, _ in found], textposition="auto",
                 hovertemplate="%{y}: %{x} escalations<extra></extra>")
    return _styled(go.Figure([bar]), showlegend=False, height=max(200, 90 + 36 * len(found)),
                   xaxis={"title": {"text": "escalations"}, "rangemode": "tozero"},
                   yaxis={"type": "category", "autorange": "reversed"})


def _add_facet(figure: go.Figure, row: int, priority: str, rows: Sequence[Mapping[str, Any]]) -> None:
    budgets = sorted({r["budget_s"] for r in rows if r.get("budget_s")})  # a budget changed in the period: both
    scale = scale_for([r["seconds"] for r in rows], budgets)
    figure.add_trace(_duration_bars(priority, rows, scale), row=row, col=1)
    for budget_s in budgets:
        figure.add_vline(x=budget_s / scale.unit_s, row=row, col=1, line=BUDGET_LINE,
                         annotation_text=f"SLA {format_duration(int(budget_s))}", annotation_position="top right")
    figure.update_xaxes(title_text=f"business time ({scale.unit})", range=[0, scale.end + scale.width], row=row, col=1)
    figure.update_yaxes(title_text="tickets", rangemode="tozero", row=row, col=1)


def _facet_title(priority: str, rows: Sequence[Mapping[str, Any]]) -> str:
    breached = sum(1 for r in rows if r.get("breached"))
    return f"{_text(priority)}: {len(rows):,} measured, {breached:,} breached ({100 * breached / len(rows):.1f} %)"


def _duration_bars(priority: str, rows: Sequence[Mapping[str, Any]], scale: Scale) -> go.Bar:
    found = counts([row["seconds"] for row in rows], scale)
    indexes = [i for i, n in enumerate(found) if n]
    return go.Bar(x=[scale.centre(i) for i in indexes], y=[found[i] for i in indexes], width=scale.width,
                  customdata=[scale.label(i) for i in indexes], name=_text(priority), marker_color=_colour(priority),
                  marker_pattern_shape=["/" if i == scale.count else "" for i in indexes],
                  hovertemplate="%{customdata}: %{y}<extra>%{fullData.name}</extra>")


def _group(rows: Iterable[Mapping[str, Any]], key: str) -> dict[str, list[Mapping[str, Any]]]:
    """Rows by the value of `key`; priorities most urgent first, anything else by name."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(str(row[key]), []).append(row)
    order = _priority_order if key == "priority" else (lambda name: (0, name))
    return {name: grouped[name] for name in sorted(grouped, key=order)}


def _ordered_priorities(names: Iterable[str]) -> list[str]:
    return sorted(set(names), key=_priority_order)


def _priority_order(priority: str) -> tuple[int, str]:
    return (PRIORITIES.index(priority), "") if priority in PRIORITIES else (len(PRIORITIES), priority)


def clock_order(clock: str) -> tuple[int, str]:
    return (CLOCKS.index(clock), "") if clock in CLOCKS else (len(CLOCKS), clock)


def _colour(priority: str) -> str:
    """The priority's own colour; others take the next of a fixed palette by a stable sum of their name."""
    if priority in PRIORITY_COLOURS:
        return PRIORITY_COLOURS[priority]
    return OTHER_COLOURS[sum(priority.encode()) % len(OTHER_COLOURS)]


def _text(value: object) -> str:
    """A text from data, escaped for plotly.js's labels (shown as written, never read as markup)."""
    return html.escape(str(value), quote=False)


def _styled(figure: go.Figure, **layout: Any) -> go.Figure:
    defaults = {"template": TEMPLATE, "height": HEIGHT, "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
                "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
                "font": {"family": "system-ui, sans-serif"}}
    figure.update_layout(**{**defaults, **layout})
    return figure
