"""Run one scenario through a simulated desk: the clock moves from step to step with the sweeps ticking in
between, each step is carried out, everything the bot sends is delivered and recorded. The result is the
`--json` document: the messages, the tickets and their events.

A scenario only ever touches its own throwaway desk: a `cli` step starting with an option (`--home`,
`--database-url`, `--redis-url`, `--env-file`, `--tz` ...: tgesc's own, which would point the command at another
desk) is refused before anything runs. A run in which the bot failed to handle a message or press, or a job
failed, stops there with a ScenarioError naming the step: its outcome would not be what the desk does.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from tgesc.adapters.inline_worker import JobFailed
from tgesc.adapters.redis_server import embedded_url, ensure_embedded, stop_embedded
from tgesc.domain.scenario import Scenario, ScenarioError, Step
from tgesc.models import database
from tgesc.services.tickets import store as tickets
from tgesc.simulation.desk import SimulatedDesk
from tgesc.simulation.keep import keep
from tgesc.simulation.report import event_rows, ticket_rows
from tgesc.simulation.timeline import PERIODIC, SweepTicker
from tgesc.simulation.together import StoryTickets

REFUSED_COMMANDS = {"simulate": "a simulation cannot start another", "worker": "workers run for good"}
STEP_FIELD = {"customer": "customer", "staff": "staff", "press": "press", "cli": "cli", "wait": "at"}


def run_scenario(scenario: Scenario, *, config: Path | None = None, redis_url: str | None = None,
                 run_command: Callable[[list[str]], int] | None = None, keep_in: Path | None = None) -> dict[str, Any]:
    """Play `scenario` on a fresh desk (`config` instead of the scenario's own; `run_command` runs its `cli`
    steps, see SimulatedDesk; `keep_in`: the home the played desk is kept in, see simulation.keep); the result
    document. ScenarioError names the step and field that could not be carried out."""
    check_commands(scenario)
    desk = SimulatedDesk(scenario, config=config or scenario.config, redis_url=redis_url,
                         run_command=run_command).open()
    try:
        check_staff(desk, scenario)
        result = Simulation(desk, scenario).run()
        if keep_in is not None:
            keep(desk, keep_in)
        return result
    finally:
        desk.close()


@contextlib.contextmanager
def redis_for_run(redis_url: str | None) -> Iterator[str]:
    """The Redis URL a run of simulations uses: the given one, else an embedded server started for the run
    (in a temporary directory) and stopped after it."""
    if redis_url:
        yield redis_url
        return
    with tempfile.TemporaryDirectory(prefix="tgesc-simulate-redis-") as folder:
        ensure_embedded(Path(folder))
        try:
            yield embedded_url(Path(folder))
        finally:
            stop_embedded(Path(folder))


def check_commands(scenario: Scenario) -> None:
    """Refuse a `cli` step that would leave the simulated desk (a root option) or never end (ScenarioError)."""
    for step in scenario.steps:
        if step.cli and step.cli[0].startswith("-"):
            option = step.cli[0].partition("=")[0][:40]
            raise ScenarioError(f"{scenario.name}: step {step.number}: field 'cli': `{option}` is an option of tgesc "
                                "itself (like --home, --database-url, --redis-url, --env-file, --tz): a scenario's "
                                "command lines always run on its own throwaway desk; start the line with the "
                                "command, e.g. cli = \"ticket escalate 1 --to L2\"")
        if step.cli and step.cli[0] in REFUSED_COMMANDS:
            raise ScenarioError(f"{scenario.name}: step {step.number}: field 'cli': `tgesc {step.cli[0]}` is not "
                                f"available in a simulation ({REFUSED_COMMANDS[step.cli[0]]})")


def check_staff(desk: SimulatedDesk, scenario: Scenario) -> None:
    """Every staff member a step names is in the scenario's [staff] or the configuration's."""
    for step in scenario.steps:
        if step.staff is not None and step.staff not in desk.staff_keys:
            known = ", ".join(sorted(desk.staff_keys)) or "none"
            raise desk.step_error(step, "staff", f"no staff member {step.staff!r} in the scenario or the "
                                                 f"configuration (known: {known})")


class Simulation:
    def __init__(self, desk: SimulatedDesk, scenario: Scenario) -> None:
        self.desk, self.scenario = desk, scenario
        self.zone: tzinfo = scenario.start.tzinfo
        self.ticker = SweepTicker(scenario.start, {p.every: desk.settings.seconds(p.every) for p in PERIODIC})
        self.with_buttons: list[dict[str, Any]] = []  # the bot's messages with buttons so far (journal entries)
        self.messages: list[dict[str, Any]] = []
        self.actions: list[dict[str, Any]] = []  # presses and command lines, for the transcript
        self.threads: dict[tuple[int, int], int] = {}  # (staff chat, thread) -> ticket number
        self.stories = StoryTickets() if any(step.story for step in scenario.steps) else None

    def run(self) -> dict[str, Any]:
        for step in self.scenario.steps:
            self.play(step)
        return {"scenario": self.scenario.name, "messages": self.messages,
                "tickets": ticket_rows(self.desk.names), "events": event_rows(self.zone), "actions": self.actions}

    def play(self, step: Step) -> None:
        """Move the clock to the step, carry it out (its story's ticket numbers made the desk's), deliver;
        ScenarioError naming the step if a job or the bot's handler failed on the way."""
        try:
            self.advance_to(step.at)
        except JobFailed as failed:
            raise self.desk.step_error(step, "at", f"on the way to {self._at(step.at)} the job "
                                                   f"{failed.description} failed ({failed.reason})") from None
        if self.stories is not None:
            step = self.stories.translated(step)
        try:
            self.carry_out(step)
            self.settle()
        except JobFailed as failed:
            raise self.desk.step_error(step, STEP_FIELD[step.kind], f"the job {failed.description} failed "
                                                                    f"({failed.reason})") from None
        if self.desk.failures:
            raise self.desk.step_error(step, STEP_FIELD[step.kind], "; ".join(self.desk.failures))
        if self.stories is not None:  # the tickets the step opened are its story's
            self.stories.learn(step, tickets.numbers_after(database, self.stories.last))

    def advance_to(self, target: datetime) -> None:
        """Move the clock to `target`, running every sweep at each of its ticks with work on the way."""
        clock = self.desk.clock
        while (tick := self.ticker.next_tick(clock())) is not None and tick[0] <= target:
            at, sweeps = tick
            clock.move_to(at)
            for periodic in sweeps:
                self.desk.worker.run_now(self.desk.queue_name, periodic.job)
                self.ticker.ran(periodic, at)
            self.settle()
        clock.move_to(target)

    def carry_out(self, step: Step) -> None:
        desk = self.desk
        if step.kind == "customer":
            desk.customer_says(step)
        elif step.kind == "staff":
            desk.staff_says(step)
        elif step.kind == "press":
            self._act(step.customer, f"presses [{desk.press(step, self.with_buttons)}]")
        elif step.kind == "cli":
            desk.cli(step)  # what the command printed is left out: the events say what it did
            self._act("cli", f"$ tgesc {step.cli_line}")

    def settle(self) -> None:
        """Run the jobs waiting, deliver the outbox, record what crossed the wire."""
        self.desk.deliver()
        for entry in self.desk.take_messages():
            if entry["outgoing"] and entry["buttons"]:
                self.with_buttons.append(entry)
            self.messages.append(self._message(entry))

    def _act(self, who: str, what: str) -> None:
        self.actions.append({"at": self._at(self.desk.clock()), "who": who, "what": what})

    def _message(self, entry: dict[str, Any]) -> dict[str, Any]:
        names, chat_id = self.desk.names, entry["chat_id"]
        return {
            "at": self._at(datetime.fromtimestamp(entry["date"], self.zone)),
            "direction": "out" if entry["outgoing"] else "in",
            "chat": names.get(chat_id, str(chat_id)),
            "chat_id": chat_id,
            "thread": entry["thread"],
            "ticket": _ticket_of(chat_id, entry["thread"], self.threads),
            "from": "bot" if entry["outgoing"] else names.get(entry["sender_id"], str(entry["sender_id"])),
            "text": entry["text"],
            "attachment": entry["media"],
            "file_name": entry["file_name"],
            "buttons": entry["buttons"] or [],
        }

    def _at(self, instant: datetime) -> str:
        return instant.astimezone(self.zone).isoformat(timespec="seconds")


def _ticket_of(chat_id: int, thread: int | None, known: dict[tuple[int, int], int]) -> int | None:
    """The number of the ticket whose staff thread (forum topic or card) `thread` is, in staff chat `chat_id`
    (`known`: threads found before; a thread never changes its ticket)."""
    if thread is None or chat_id > 0:
        return None
    if (chat_id, thread) not in known:
        number = tickets.number_of_staff_thread(database, chat_id, thread)
        if number is None:
            return None
        known[chat_id, thread] = number
    return known[chat_id, thread]
