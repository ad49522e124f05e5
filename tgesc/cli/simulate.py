"""`tgesc simulate`: rehearse an escalation policy offline, on scripted conversations and a virtual clock, or
replay the desk's own history under a candidate configuration (`--replay`) and see what would have changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from tgesc.cli.output import emit, info, progress, table
from tgesc.cli.parsing import whole_number
from tgesc.domain.errors import UsageError
from tgesc.domain.limits import CROWD, SEED

if TYPE_CHECKING:
    from tgesc.domain.scenario import Scenario
    from tgesc.simulation.keep import Homes

app = typer.Typer(add_completion=False)
JSON_KEYS = ("scenario", "messages", "tickets", "events")
DEFAULT_SINCE = "30d"
DEFAULT_SEED = 1


@app.command("simulate")
def simulate(
    scenarios: list[Path] = typer.Argument(None, help="Scenario files (TOML); see examples/. None with --replay.",
                                           dir_okay=False, show_default=False),
    config: Path = typer.Option(None, "--config", dir_okay=False,
                                help="Configuration applied over the shipped defaults (instead of each "
                                     "scenario's own `config`). With --replay: the candidate, applied over the "
                                     "current configuration as `tgesc config apply` would."),
    keep: Path = typer.Option(None, "--keep", metavar="DIR", file_okay=False,
                              help="Keep the simulated desk as a data directory: DIR for one desk, DIR/<file stem> "
                                   "for several (TGESC_HOME=DIR tgesc ticket list). DIR must be new or empty."),
    recent: bool = typer.Option(False, "--recent",
                                help="Move each desk's timeline on by whole weeks (weekdays and times of day kept) "
                                     "so that it ends in the week before now: a kept desk then reads as current."),
    play_together: bool = typer.Option(False, "--together",
                                       help="Play the scenario files on one desk, in one timeline."),
    crowd_size: int = typer.Option(None, "--crowd", metavar="N", parser=whole_number(CROWD),
                                   help="Play them (on one desk, as --together) among N generated customers: a "
                                        "week of everyday conversations from the first story's start."),
    seed: int = typer.Option(None, "--seed", metavar="S", parser=whole_number(SEED),
                             help=f"With --crowd: which crowd (default {DEFAULT_SEED}); the same seed, the same "
                                  "crowd."),
    replay: bool = typer.Option(False, "--replay",
                                help="Replay the customer messages of your database (read-only) under the current "
                                     "configuration and under --config, and show what would have changed."),
    since: str = typer.Option(None, "--since", help=f"With --replay: since when: how far back, e.g. 7d or 36h "
                                                    f"(default {DEFAULT_SINCE}), or an instant or date."),
    prune: bool = typer.Option(False, "--prune", help="With --replay: entries the candidate leaves out are removed, "
                                                      "as with `tgesc config apply --prune`."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document (a list with several scenarios)."),
    redis_url: str = typer.Option(None, "--redis-url",
                                  help="Redis for the simulation's jobs (default: an embedded one, started "
                                       "for the run). Use one no running desk uses."),
) -> None:
    """Play scripted conversations through the real desk (bot, rules, SLA clocks, sweeps, surveys) on a
    virtual clock, each in a fresh temporary database, and show what customers and staff would have seen.

    Nothing touches your database or Telegram. Every scenario file is checked before any runs; a bad one
    stops with the file, step and field (exit 1), nothing half-run. A `cli` step runs on the simulated desk
    only: it may not start with an option of tgesc itself (--home, --database-url, ...), and neither your
    TGESC_* variables nor a .env file reach the simulated desk. A run in which the bot fails to handle a
    message or a sweep fails stops there: exit 1, naming the step.

    --together plays the files on one desk: their steps in one timeline, each file's `ticket = N` still the
    Nth ticket it opened. --crowd N adds N generated customers (the same for the same --seed) and the crowd's
    staff, with a week of everyday conversations. --keep DIR keeps the desk as a data directory (its SQLite
    database, tgesc.db, and its virtual clock's last instant, clock): TGESC_HOME=DIR tgesc ... reads it, on
    the real clock (TGESC_CLOCK=file:DIR/clock: as of the simulation's end).

    With --replay, the customers' messages of the last --since (30d), the staff replies, resolutions and
    survey answers are played again, at their original instants, on two temporary copies of the desk: one with
    the current configuration, one with the candidate --config applied over it. The summary counts
    escalations by trigger, SLA warnings and breaches by clock, and surveys in both, and lists each ticket
    that gained or lost one (numbers of your database). Your database is only read. A candidate is a
    configuration file as `tgesc config apply` takes it: start from `tgesc config export`.

    Examples:

      tgesc simulate examples/*.toml

      tgesc simulate refund.toml --config candidate.toml --json

      tgesc simulate examples/1-refund-to-l2.toml --keep refund-desk

      tgesc simulate examples/[1-6]-*.toml --crowd 150 --keep demo-desk > transcript.txt

      tgesc config export > candidate.toml   # then disable or delete rules in it

      tgesc simulate --replay --since 30d --config candidate.toml --prune
    """
    if replay:
        _refuse_with_replay(keep=keep, together=play_together, crowd=crowd_size, seed=seed, recent=recent)
        _replay(scenarios or [], config, since or DEFAULT_SINCE, prune, as_json, redis_url)
        return
    if since is not None or prune:
        raise UsageError(f"{'--since' if since is not None else '--prune'} goes with --replay only")
    if seed is not None and crowd_size is None:
        raise UsageError("--seed picks a crowd: it goes with --crowd N")
    if not scenarios and crowd_size is None:
        raise UsageError("give one or more SCENARIO files (or a --crowd), or --replay --config CANDIDATE.toml")
    _scenarios(scenarios or [], config, as_json, redis_url, keep,
               Crowd(crowd_size, DEFAULT_SEED if seed is None else seed) if crowd_size else None,
               play_together or crowd_size is not None, recent)


@dataclass(frozen=True)
class Crowd:
    """`--crowd N --seed S`: how many generated customers, and which."""

    size: int
    seed: int


def _refuse_with_replay(**given: object) -> None:
    """A usage error for the first option of `given` that was given: each goes with scenario files."""
    for name, value in given.items():
        if value:
            raise UsageError(f"--{name} goes with scenario files, not with --replay")


def _scenarios(paths: list[Path], config: Path | None, as_json: bool, redis_url: str | None, keep: Path | None,
               crowd: Crowd | None, one_desk: bool, recent: bool = False) -> None:
    from tgesc.simulation.keep import plan

    desks = _desks(paths, crowd, config, one_desk)
    if recent:
        from tgesc.cli.context import current_time

        now = current_time()
        desks = [desk.in_week_before(now) for desk in desks]
    homes = plan(keep, [] if one_desk else [path.stem for path in paths]) if keep else None
    results = _play(desks, config, redis_url, homes)
    if homes is not None:
        for desk, home in zip(desks, homes.homes, strict=True):
            _kept(desk, home)
    if as_json:
        documents = [{key: result[key] for key in JSON_KEYS} for result in results]
        emit(documents[0] if len(documents) == 1 else documents, True)
        return
    from tgesc.simulation.transcript import render_text

    print("\n\n".join(render_text(result, desk.start.tzinfo) for result, desk in zip(results, desks, strict=True)))


def _kept(desk: Scenario, home: Path) -> None:
    """Where a desk was kept, and how to report on its own days (its instants are the simulation's)."""
    from datetime import timedelta

    day = timedelta(days=1)  # a day's margin each side: the viewer's zone may put an instant on another date
    first, last = desk.start.date() - day, desk.last_instant().date() + 2 * day
    info(f"Kept the desk in {home}: TGESC_HOME={home} tgesc ticket list; its days: tgesc report summary "
         f"--since {first} --until {last} (or TGESC_CLOCK=file:{home / 'clock'}: the desk as of its end).")


def _desks(paths: list[Path], crowd: Crowd | None, config: Path | None, one_desk: bool) -> list[Scenario]:
    """The scenarios to play, each file on a desk of its own, or (`one_desk`) all of them and the crowd, from the first
    story's start, on one; every file checked first."""
    from tgesc.domain.scenario import load_scenario
    from tgesc.simulation import crowd as crowds
    from tgesc.simulation.runner import check_commands
    from tgesc.simulation.together import together

    stories = [load_scenario(path) for path in paths]
    for story in stories:
        check_commands(story)
    if not one_desk:
        return stories
    if crowd is not None:
        start = min((story.start for story in stories), default=crowds.DEFAULT_START)
        stories.append(crowds.crowd(crowd.size, seed=crowd.seed, start=start))
    return [together(stories, name=" + ".join(story.name for story in stories), config=config)]


def _play(desks: list[Scenario], config: Path | None, redis_url: str | None, homes: Homes | None) -> list[dict]:
    """Each desk played (and kept in its home); what a failed run had kept is taken away."""
    from tgesc.cli.main import run
    from tgesc.simulation.keep import discard
    from tgesc.simulation.runner import redis_for_run, run_scenario

    try:
        with redis_for_run(redis_url) as url:
            return [run_scenario(desk, config=config, redis_url=url, run_command=run,
                                 keep_in=homes.homes[index] if homes else None)
                    for index, desk in enumerate(progress("simulating")(desks, len(desks)))]
    except BaseException:
        if homes is not None:
            discard(homes)
        raise


# --- --replay -------------------------------------------------------------------------------------------------


def _replay(scenarios: list[Path], candidate: Path | None, since: str, prune: bool, as_json: bool,
            redis_url: str | None) -> None:
    from zoneinfo import ZoneInfo

    from tgesc.cli.context import current_time, state
    from tgesc.cli.parsing import moment_or_ago
    from tgesc.simulation.replay import replay

    if scenarios:
        raise UsageError("--replay replays your database's history: give no SCENARIO files with it")
    if candidate is None:
        raise UsageError("--replay needs --config CANDIDATE.toml: the configuration to compare with the current one")
    zone = state().settings().timezone
    until = current_time().astimezone(ZoneInfo(zone))
    since_at = moment_or_ago(since, "--since", zone, until)
    if since_at >= until:
        raise UsageError(f"--since {since}: the window to replay is empty; give a positive duration such as 30d, or "
                         "an instant before now")
    state().database()  # the models are bound to your database: the replay only reads it
    document = replay(since_at, until, candidate, redis_url, prune=prune)
    if as_json:
        emit(document, True)
    elif not document["messages"]:
        print(f"No customer messages since {document['since']} (--since {since}): nothing to replay.")
    else:
        print(render_replay(document, candidate))


def render_replay(document: Mapping[str, Any], candidate: Path) -> str:
    """The replay's summary: the counts side by side, the changes ticket by ticket, the steps left out."""
    head = (f"Replayed {document['messages']} customer message(s) from {document['customers']} customer(s), "
            f"{document['since']} to {document['until']}, under the current configuration and under {candidate}.")
    rows = _count_rows(document["current"], document["candidate"])
    parts = [head, table(rows, ["outcome", "current", "candidate", "change"]), _changes_text(document["changes"])]
    notes = [f"  {run}: {note}: {count}" for run, found in document["notes"].items() for note, count in found.items()]
    if notes:
        parts.append("Steps of the history that did not fit a replay (left out, or done by someone else):\n"
                     + "\n".join(notes))
    return "\n\n".join(parts)


def _count_rows(current: Mapping[str, Any], candidate: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = [_row("tickets", current["tickets"], candidate["tickets"]),
            _row("escalations (all)", sum(current["escalations"].values()), sum(candidate["escalations"].values()))]
    for key, label in (("escalations", "escalations: {}"), ("sla_warnings", "SLA warnings: {}"),
                       ("sla_breaches", "SLA breaches: {}")):
        for name in sorted(current[key].keys() | candidate[key].keys()):
            rows.append(_row(label.format(name), current[key].get(name, 0), candidate[key].get(name, 0)))
    rows += [_row("surveys sent", current["surveys_sent"], candidate["surveys_sent"]),
             _row("surveys answered", current["surveys_answered"], candidate["surveys_answered"])]
    return rows


def _row(outcome: str, current: int, candidate: int) -> dict[str, Any]:
    return {"outcome": outcome, "current": current, "candidate": candidate,
            "change": f"{candidate - current:+d}" if candidate != current else ""}


def _changes_text(changes: list[Mapping[str, Any]]) -> str:
    if not changes:
        return "No changes: the candidate would have handled this history the same way."
    return f"Changes ({len(changes)}):\n" + "\n".join("  " + _change_line(change) for change in changes)


def _change_line(change: Mapping[str, Any]) -> str:
    ticket = f"ticket #{change['ticket']}" if change["ticket"] is not None else "a ticket"
    detail = change["detail"]
    what = change.get("trigger") or change.get("clock") or ""
    extra = [f"rule {detail['rule']}" if detail.get("rule") else "", f"to {detail['to']}" if detail.get("to") else "",
             f"round {detail['round']}" if detail.get("round") else "",
             f"now at {detail['candidate_at']}" if detail.get("candidate_at") else ""]
    shown = ", ".join(part for part in extra if part)
    at = f"{change['at']}  " if change["at"] else ""
    return f"{at}{ticket} ({change['customer']}): {change['kind']}" + (f": {what}" if what else "") + (
        f" ({shown})" if shown else "")
