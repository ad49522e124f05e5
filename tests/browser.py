"""Headless Chromium (Debian's `chromium`) for the tests that look at a page as a person would: `visit` opens a local
file, lets its scripts run, and hands back the DOM they left, a screenshot, the console, and every request that
left the page.

No request leaves unseen. Chromium runs with a proxy of the test's own on 127.0.0.1 for every scheme and every
host, loopback included (`--proxy-bypass-list=<-loopback>`), and with a host resolver that resolves nothing
(`MAP * ~NOTFOUND`), so whatever tries the network reaches the proxy, which notes it and answers 502 (WebRTC may
not send UDP past it either). But Chromium itself talks to Google whatever the flags say (component updates,
the account list, network time), so the proxy alone would see requests no page made. Chromium's net log tells
them apart: a request made for a page carries the page's origin as its initiator (`null` for a file), the
browser's own carry none. Every connection the proxy received must be one of the browser's own by the net log;
any other counts as the page's. `visit(...).page_requests` is empty only when the page asked for nothing.
"""

from __future__ import annotations

import json
import os
import re
import socketserver
import struct
import subprocess
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

BROWSER_INITIATOR = "not an origin"  # the net log's initiator of the browser's own requests
DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}
CONSOLE = re.compile(r":CONSOLE:\d+\] (.*)$")
QUIET = ("--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--force-device-scale-factor=1",
         "--force-webrtc-ip-handling-policy=disable_non_proxied_udp")  # less chatter; nothing relies on it


@dataclass(frozen=True)
class Visit:
    """What one visit of a page gave."""

    dom: str  # the DOM after the scripts ran (`--dump-dom`)
    png: bytes  # the screenshot of the window
    console: list[str]  # the page's console messages, as Chromium logged them
    page_requests: list[str]  # URLs the page asked for, and connections nothing explains: empty when none left
    browser_requests: list[str]  # the browser's own requests, by the net log
    proxied: list[str]  # the first line of every connection the proxy received


def visit(chromium: str, page: Path, workdir: Path, *, width: int = 1280, height: int = 2000,
          budget_ms: int = 5000, timeout_s: float = 90) -> Visit:
    """Open `page` (a local file) in headless `chromium` with the window `width` × `height`; `budget_ms` of virtual
    time lets its scripts run. `workdir` gets the profile, the net log and the screenshot."""
    netlog, screenshot = workdir / "netlog.json", workdir / "screenshot.png"
    with recording_proxy() as (port, proxied):
        args = [chromium, "--headless", "--no-sandbox", f"--user-data-dir={workdir / 'profile'}", *QUIET,
                f"--proxy-server=http://127.0.0.1:{port}", "--proxy-bypass-list=<-loopback>",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                f"--log-net-log={netlog}", "--net-log-capture-mode=Default", "--enable-logging=stderr", "--v=0",
                f"--window-size={width},{height}", f"--virtual-time-budget={budget_ms}",
                f"--screenshot={screenshot}", "--dump-dom", page.resolve().as_uri()]
        env = {**os.environ, "HOME": str(workdir)}  # Chromium writes under $HOME (.pki, crash reports)
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s, env=env, check=False)
    if done.returncode != 0 or not screenshot.exists():
        raise AssertionError(f"chromium exited {done.returncode}:\n{done.stderr[-3000:]}")
    page_urls, browser_urls = _net_requests(netlog)
    unexplained = [line for line in proxied if _endpoint_of_line(line) not in {_endpoint(u) for u in browser_urls}]
    return Visit(dom=done.stdout, png=screenshot.read_bytes(), console=_console(done.stderr),
                 page_requests=page_urls + [f"unexplained connection: {line}" for line in unexplained],
                 browser_requests=browser_urls, proxied=list(proxied))


@contextmanager
def recording_proxy() -> Iterator[tuple[int, list[str]]]:
    """An HTTP proxy on 127.0.0.1 that notes the first line of every connection and answers 502:
    (its port, the lines so far)."""
    lines: list[str] = []

    class Handler(socketserver.StreamRequestHandler):
        timeout = 10

        def handle(self) -> None:
            lines.append(self.rfile.readline(8192).decode("latin-1").strip())
            self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    with Server(("127.0.0.1", 0), Handler) as server:
        thread = threading.Thread(target=server.serve_forever, name="recording-proxy", daemon=True)
        thread.start()
        try:
            yield server.server_address[1], lines
        finally:
            server.shutdown()
            thread.join(timeout=10)


def _net_requests(netlog: Path) -> tuple[list[str], list[str]]:
    """The URLs requested in a Chromium net log: (for a page, the browser's own), by their initiator."""
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    page, browser = [], []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] == start and "url" in params:
            mine = params.get("initiator", BROWSER_INITIATOR) == BROWSER_INITIATOR
            (browser if mine else page).append(params["url"])
    return page, browser


def _endpoint(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or DEFAULT_PORTS.get(parts.scheme, 0)}"


def _endpoint_of_line(line: str) -> str:
    """`host:port` of a proxy request line: `CONNECT host:443 HTTP/1.1` or `GET http://host/path HTTP/1.1`."""
    words = line.split()
    if len(words) < 2:
        return line
    return words[1] if words[0] == "CONNECT" else _endpoint(words[1])


def _console(stderr: str) -> list[str]:
    return [found.group(1) for line in stderr.splitlines() if (found := CONSOLE.search(line))]


# --- the screenshot ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    rows_with_content: int  # rows whose filtered bytes are not one pixel's repeated: a one-colour image has none


def read_png(data: bytes) -> Png:
    """Check a PNG end to end (signature, every chunk's CRC, IHDR, the image data's size once inflated) and count the
    rows that show something, without decoding a pixel: in an image of one colour, whichever of PNG's five filters
    a row was stored with, its bytes after the first pixel repeat one pixel's bytes (the colour itself, or zeros),
    so a row that does not is a row with something drawn on it."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise AssertionError("not a PNG")
    chunks = dict.fromkeys((b"IHDR", b"IEND"), b"")
    image = bytearray()
    for kind, body in _chunks(data):
        if kind == b"IDAT":
            image += body
        else:
            chunks[kind] = body
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    if depth != 8 or interlace:
        raise AssertionError(f"unexpected PNG: depth {depth}, interlace {interlace}")
    rows = zlib.decompress(bytes(image))
    stride = 1 + width * channels
    if len(rows) != stride * height:
        raise AssertionError(f"PNG data is {len(rows)} bytes, not {stride * height}")
    content = sum(_drawn(rows[at + 1:at + stride], channels) for at in range(0, len(rows), stride))
    return Png(width, height, content)


def _drawn(row: bytes, channels: int) -> bool:
    rest = row[channels:]
    return rest[channels:] != rest[:-channels]


def _chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    at = 8
    while at < len(data):
        (size,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + size]
        (crc,) = struct.unpack(">I", data[at + 8 + size:at + 12 + size])
        if zlib.crc32(kind + body) != crc:
            raise AssertionError(f"PNG chunk {kind!r} fails its CRC")
        yield kind, body
        at += 12 + size
