"""Rendering for the CLI: data to stdout (a table, or one JSON document with --json), messages to stderr."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import typer

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of a table.")


MAX_CELL = 72
KEY_COLUMNS = {"tiers": "code", "staff": "handle", "sla": "priority", "calendars": "calendar",
               "rules": "rule", "templates": "key", "faq": "faq", "snippets": "snippet"}


def _short(text: str) -> str:
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _cell(value: Any) -> str:
    return _short(_full_cell(value))


def _full_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_full_cell(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_full_cell(v)}" for k, v in value.items())
    return " ".join(str(value).split())


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A plain-text table of `rows` (columns default to the first row's keys)."""
    from tabulate import tabulate

    if not rows:
        return "(none)"
    columns = list(columns or rows[0].keys())
    body = [[_cell(row.get(col)) for col in columns] for row in rows]
    return tabulate(body, headers=columns, tablefmt="simple", disable_numparse=True)


def emit(data: Any, as_json: bool, *, columns: Sequence[str] | None = None) -> None:
    """Print rows (a list of dicts) or one record (a dict) as a table, or `data` as JSON."""
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False, default=str))
        return
    if isinstance(data, Mapping):
        from tabulate import tabulate

        print(tabulate([[k, _full_cell(v)] for k, v in data.items()], headers=["field", "value"],
                       tablefmt="simple", disable_numparse=True, maxcolwidths=[None, 100]))
    else:
        print(table(list(data), columns))


STREAM_WIDTHS_FROM = 1000  # a streamed table's column widths come from its first rows


def stream_json(rows: Iterable[Any]) -> None:
    """Print `rows` as one JSON array, one element a line, as they come (nothing is held: `--all --json`)."""
    with _piped():
        out, first = sys.stdout, True
        for row in rows:
            out.write(("[\n" if first else ",\n") + json.dumps(row, ensure_ascii=False, default=str))
            first = False
        out.write("[]\n" if first else "\n]\n")


def stream_table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> int:
    """Print `rows` as `table` would, as they come: the column widths are those of the first STREAM_WIDTHS_FROM
    rows (a longer cell later pushes its line out). How many rows were printed."""
    with _piped():
        iterator = iter(rows)
        head = [[_cell(row.get(col)) for col in columns] for row in itertools.islice(iterator, STREAM_WIDTHS_FROM)]
        if not head:
            print("(none)")
            return 0
        widths = [max(len(name) + 2, *(len(cells[i]) for cells in head)) for i, name in enumerate(columns)]
        line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
        print(line(columns), line(["-" * w for w in widths]), *(line(cells) for cells in head), sep="\n")
        count = len(head)
        while chunk := list(itertools.islice(iterator, STREAM_WIDTHS_FROM)):
            print(*(line([_cell(row.get(col)) for col in columns]) for row in chunk), sep="\n")
            count += len(chunk)
        return count


@contextlib.contextmanager
def _piped() -> Iterator[None]:
    """A reader that stops early (`| head`) ends the output quietly: no traceback, nothing more written."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python flushes stdout once more at exit


def counted(shown: int, total: int, noun: str, *, more: bool = False, following: str | None = None) -> str:
    """The line under a page of a list: how many of how many `noun` match (`more`: more than `total`, the count
    having stopped there), and the command for the next page when there is one (`following`)."""
    line = f"{shown:,} of {'more than ' if more else ''}{total:,} {noun}"
    return f"{line}; next: {following}" if following else line + "."


def emit_page(records: Sequence[Mapping[str, Any]], limit: int, as_json: bool, command: str, *,
              columns: Sequence[str], total: int, noun: str,
              shown: Callable[[Mapping[str, Any]], Any] = lambda record: record) -> None:
    """A page of a list: the first `limit` of `records`, each as `shown` makes it, as `emit` prints them, and under
    them (to stderr with --json) how many of `total` (counted up to COUNTED_UP_TO + 1: more is "more than") match
    and, when `records` holds one more, the command for the next page (`command`, ending with the option that
    takes the last record's id)."""
    from tgesc.db import COUNTED_UP_TO

    page = list(records[:limit])
    emit([shown(record) for record in page], as_json, columns=columns)
    following = f"{command} {page[-1]['id']}" if len(records) > limit else None
    print(counted(len(page), min(total, COUNTED_UP_TO), noun, more=total > COUNTED_UP_TO, following=following),
          file=sys.stderr if as_json else sys.stdout)


def stream_rows(rows: Iterable[Mapping[str, Any]], as_json: bool, *, columns: Sequence[str], noun: str) -> None:
    """A list's `--all`: every row written as it is read (`stream_json`, or `stream_table` with the count under
    it)."""
    if as_json:
        stream_json(rows)
        return
    count = stream_table(rows, columns)
    print(counted(count, count, noun))


def info(message: str) -> None:
    """A human message on stderr (never mixed into data on stdout)."""
    print(message, file=sys.stderr)


def lines(items: Iterable[str]) -> None:
    for item in items:
        print(item)


def progress(description: str) -> Callable[[Iterable[Any], int], Iterable[Any]]:
    """A wrapper that shows Rich's progress bar on stderr while iterating, when stderr is a terminal."""

    def wrap(items: Iterable[Any], total: int) -> Iterable[Any]:
        if not sys.stderr.isatty():
            return items
        from rich.console import Console
        from rich.progress import track

        return track(items, total=total, description=description, console=Console(stderr=True), transient=True)

    return wrap
