"""`tgesc survey ...`: return-visit surveys (article, step 5): list, show, send now, sweep once."""

from __future__ import annotations

import typer

app = typer.Typer(help="Return-visit surveys: 1-5 stars after a resolution; low scores reopen and escalate.",
                  no_args_is_help=True)


@app.callback()
def survey() -> None:
    """Return-visit surveys (the commands follow)."""
