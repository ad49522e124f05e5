"""The HTML report's page (`tgesc.services.reports.html.render`): what the file holds."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser

import pytest
from plotly.offline import get_plotlyjs
from report_documents import busy_week, empty_desk

from tgesc.services.reports import html as report_html
from tgesc.services.reports.charts import CLOCK_NAMES

CHARTS = ("tickets-per-day", "first-response", "resolution", "sla-by-priority", "ratings-by-tier",
          "escalations-by-trigger")
NO_DATA = ("No ticket was opened, resolved or escalated in this period.", "No first response clock ended",
           "No resolution clock ended", "No SLA clock ended in this period.", "No survey was answered in this period.",
           "No ticket was escalated in this period.")
HOSTILE = "</script><script>document.title='pwned'</script><b>bold</b><a href=\"https://evil.example/\">x</a>"


@pytest.fixture(scope="module")
def busy_page() -> str:
    return report_html.render(busy_week())


# --- the file ------------------------------------------------------------------------------------------------------


def test_the_same_document_gives_the_same_page(busy_page: str) -> None:
    assert report_html.render(copy.deepcopy(busy_week())) == busy_page


def test_the_page_loads_nothing_from_elsewhere(busy_page: str) -> None:
    assert _outside_sources(busy_page) == []
    assert "default-src 'none'" in _csp(busy_page)
    assert busy_page.count(_plotlyjs_banner()) == 1  # inlined, once


def test_each_chart_has_its_container_and_its_script(busy_page: str) -> None:
    for chart in CHARTS:
        assert busy_page.count(f'<div id="chart-{chart}" class="plot">') == 1
        assert busy_page.count(f'Plotly.newPlot("chart-{chart}"') == 1
    assert "class=\"no-data\"" not in busy_page


def test_an_empty_desk_gets_a_page_of_notes_and_no_chart_library() -> None:
    page = report_html.render(empty_desk())
    for note in NO_DATA:
        assert note in page
    assert "Plotly" not in page and "<script" not in page
    assert "script-src 'none'" in _csp(page)
    assert re.search(r"<td>Opened\s*</td><td>\s*0\s*</td>", page)


def test_a_document_without_its_parts_still_renders() -> None:
    page = report_html.render({})
    assert "<h1>tgesc report</h1>" in page and page.count('class="no-data"') == len(CHARTS)


def test_text_from_data_is_escaped_everywhere() -> None:
    document = busy_week(clocks=200)
    document["title"] = HOSTILE
    document["ratings_by_tier"][0]["tier"] = HOSTILE
    document["escalations_by_trigger"] = {HOSTILE: 3, "keyword": 1}
    document["durations"]["first_response"][0]["priority"] = HOSTILE
    page = report_html.render(document)
    for markup in ("<script>document.title", "<b>bold</b>", '<a href="https://evil.example/">'):
        assert markup not in page
    assert page.count("<script>") == 1 + len(CHARTS)  # plotly.js and one per chart: none came from the data
    assert "&lt;/script&gt;&lt;script&gt;" in page  # the title, shown as written
    assert _outside_sources(page) == []


def test_durations_of_ten_thousand_tickets_stay_small(busy_page: str) -> None:
    charts = busy_page.split("</head>", 1)[1]
    assert len(charts.encode()) < 200_000  # binned: a few dozen bars per priority, not 20,000 numbers


def test_the_summary_shows_durations_and_rates_as_people_read_them(busy_page: str) -> None:
    summary = busy_week()["summary"]
    assert ">36m11s<" in busy_page.replace(" ", "")  # the first response's median, 2171 s
    assert summary["first_response"]["median_s"] == 2171
    assert f"{summary['sla']['first_response']['met_pct']:.1f} %" in busy_page
    assert all(name in busy_page for name in CLOCK_NAMES.values())


# --- helpers -------------------------------------------------------------------------------------------------------


def _csp(page: str) -> str:
    return re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1)


def _plotlyjs_banner() -> str:
    return get_plotlyjs()[:120]


def _outside_sources(page: str) -> list[tuple[str, str]]:
    """(tag, address) of every attribute or style rule of the page that points outside it."""
    found = _Sources()
    found.feed(page)
    return found.outside


class _Sources(HTMLParser):
    ATTRIBUTES = frozenset({"src", "href", "srcset", "action", "formaction", "data", "poster", "background",
                            "manifest", "xlink:href", "ping"})

    def __init__(self) -> None:
        super().__init__()
        self.outside: list[tuple[str, str]] = []
        self.tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tag = tag
        self.outside += [(tag, value) for name, value in attrs
                         if name in self.ATTRIBUTES and value and _points_outside(value)]

    def handle_data(self, data: str) -> None:
        if self.tag == "style" and re.search(r"@import|url\(", data):
            self.outside.append(("style", data[:80]))


def _points_outside(address: str) -> bool:
    address = address.strip().lower()
    return "://" in address or address.startswith("//")
