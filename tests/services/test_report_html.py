"""The HTML report's page (`tgesc.services.reports.html.render`): what the file holds, and what headless Chromium
makes of it: every chart drawn, a screenshot with something on it, no console error, and no request leaving the
page (tests/browser.py says how that is watched). A last test shows the watch catches a chart library loaded
from a CDN, so that a green run means something."""

from __future__ import annotations

import copy
import re
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from browser import Visit, read_png, visit
from plotly.offline import get_plotlyjs
from report_documents import busy_week, empty_desk

from tgesc.services.reports import html as report_html
from tgesc.services.reports.charts import CLOCK_NAMES

CHARTS = ("tickets-per-day", "first-response", "resolution", "sla-by-priority", "ratings-by-tier",
          "escalations-by-trigger")
NO_DATA = ("No ticket was opened, resolved or escalated in this period.", "No first response clock ended",
           "No resolution clock ended", "No SLA clock ended in this period.", "No survey was answered in this period.",
           "No ticket was escalated in this period.")
PLOTLY_CDN = "https://cdn.plot.ly/plotly-3.1.0.min.js"
WIDTH, HEIGHT = 1280, 4600  # the busy week's whole page
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


# --- in Chromium ---------------------------------------------------------------------------------------------------


def test_chromium_draws_every_chart_and_nothing_leaves_the_page(chromium: str, tmp_path: Path,
                                                                  busy_page: str) -> None:
    seen = _visit(chromium, tmp_path, busy_page)
    assert seen.page_requests == [], f"the page made requests: {seen.page_requests}"
    assert _errors(seen) == []
    for chart in CHARTS:
        drawn = _section(seen.dom, chart)
        assert drawn.count('class="main-svg"') >= 1, f"{chart}: no plot drawn"
        assert len(re.findall(r'<g class="point"><path', drawn)) >= 3, f"{chart}: no bars drawn"
    shot = read_png(seen.png)
    assert (shot.width, shot.height) == (WIDTH, HEIGHT)
    assert shot.rows_with_content > HEIGHT * 0.4  # the charts fill most of the page


def test_chromium_shows_an_empty_desk_without_a_request(chromium: str, tmp_path: Path) -> None:
    seen = _visit(chromium, tmp_path, report_html.render(empty_desk()), height=1200)
    assert all(note in seen.dom for note in NO_DATA)
    assert _errors(seen) == [] and seen.page_requests == []
    assert read_png(seen.png).rows_with_content > 100  # the header, the tables and the notes


def test_the_watch_catches_a_chart_library_from_a_cdn(chromium: str, tmp_path: Path, busy_page: str) -> None:
    """The busy page as plotly's `include_plotlyjs="cdn"` would write it: the library from the CDN (and no
    Content Security Policy to stop the request): every check above fails on it."""
    inline = f"<script>{get_plotlyjs()}</script>"
    csp = re.search(r'<meta http-equiv="Content-Security-Policy"[^>]*>\n', busy_page).group(0)
    page = busy_page.replace(inline, f'<script src="{PLOTLY_CDN}"></script>').replace(csp, "")
    assert _outside_sources(page) == [("script", PLOTLY_CDN)]
    seen = _visit(chromium, tmp_path, page)
    assert PLOTLY_CDN in seen.page_requests
    assert "cdn.plot.ly:443" in "\n".join(seen.proxied)
    assert 'class="main-svg"' not in seen.dom
    assert any("Plotly is not defined" in message for message in seen.console)


def test_the_screenshot_check_sees_a_blank_image_as_blank() -> None:
    white, drawn = b"\xff" * 3 * 40, b"\xff" * 3 * 20 + b"\x1f\x77\xb4" + b"\xff" * 3 * 19
    up = b"\x00" * 3 * 40  # a white row below a white row, stored with the Up filter
    assert read_png(_png(40, [b"\x00" + white, b"\x02" + up, b"\x00" + white])).rows_with_content == 0
    assert read_png(_png(40, [b"\x00" + white, b"\x00" + drawn, b"\x00" + white])).rows_with_content == 1


# --- helpers -------------------------------------------------------------------------------------------------------


def _visit(chromium: str, tmp_path: Path, page: str, *, height: int = HEIGHT) -> Visit:
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    return visit(chromium, path, tmp_path, width=WIDTH, height=height)


def _section(dom: str, key: str) -> str:
    start = dom.index(f'<section id="{key}">')
    return dom[start:dom.index("</section>", start)]


def _errors(seen: Visit) -> list[str]:
    return [m for m in seen.console if re.search(r"Uncaught|Refused|Content Security Policy|Error", m)]


def _png(width: int, rows: list[bytes]) -> bytes:
    """An 8-bit RGB PNG of these filtered rows."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + chunk(b"IEND", b""))


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
