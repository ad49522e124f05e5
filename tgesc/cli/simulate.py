"""`tgesc simulate`: rehearse an escalation policy offline, on scripted conversations and a virtual clock."""

from __future__ import annotations

from pathlib import Path

import typer

from tgesc.cli.output import emit, progress

app = typer.Typer(add_completion=False)
JSON_KEYS = ("scenario", "messages", "tickets", "events")


@app.command("simulate")
def simulate(
    scenarios: list[Path] = typer.Argument(..., help="Scenario files (TOML); see examples/.", dir_okay=False),
    config: Path = typer.Option(None, "--config", dir_okay=False,
                                help="Configuration applied over the shipped defaults (instead of each "
                                     "scenario's own `config`)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document (a list with several scenarios)."),
    redis_url: str = typer.Option(None, "--redis-url",
                                  help="Redis for the simulation's jobs (default: an embedded one, started "
                                       "for the run). Use one no running desk uses."),
) -> None:
    """Play scripted conversations through the real desk (bot, rules, SLA clocks, sweeps, surveys) on a
    virtual clock, each in a fresh temporary database, and show what customers and staff would have seen.

    Nothing touches your database or Telegram. Every scenario file is checked before any runs; a bad one
    stops with the file, step and field (exit 1), nothing half-run.

    Examples:

      tgesc simulate examples/*.toml

      tgesc simulate refund.toml --config candidate.toml --json
    """
    from tgesc.domain.scenario import load_scenario
    from tgesc.simulation.runner import check_commands, run_scenario
    from tgesc.simulation.transcript import render_text

    loaded = [load_scenario(path) for path in scenarios]
    for scenario in loaded:
        check_commands(scenario)
    from tgesc.cli.main import run

    results = [run_scenario(scenario, config=config, redis_url=redis_url, run_command=run)
               for scenario in progress("simulating")(loaded, len(loaded))]
    if as_json:
        documents = [{key: result[key] for key in JSON_KEYS} for result in results]
        emit(documents[0] if len(documents) == 1 else documents, True)
        return
    print("\n\n".join(render_text(result, scenario.start.tzinfo) for result, scenario in zip(results, loaded,
                                                                                              strict=True)))
