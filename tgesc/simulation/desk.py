"""A whole desk for one simulation, in a temporary directory: a fresh SQLite database with the shipped defaults
(and a config on top), the real bot (dispatcher and delivery) inside the real kurigram client on an in-memory
Telegram wire, RQ on the given Redis or an embedded one, all on one virtual clock.

People act through the wire as they would in Telegram (`customer_says`, `staff_says`, `press`); on-call staff
run `tgesc` command lines (`cli`) against this desk's database. After every action the outbox is delivered,
and `take_messages` returns what crossed the wire since the last call.

The desk is sealed off: its settings are its own (no `TGESC_*` of the environment, no `.env`), and so are those
of its command lines, which the runner has checked carry no root option (`--home`, `--database-url` ...).
A message or press the bot fails to handle is recorded in `failures` (the runner fails the run on it).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tgesc.adapters.clock import set_virtual_time
from tgesc.adapters.inline_worker import InlineWorker
from tgesc.adapters.redis_server import connect, stop_embedded
from tgesc.adapters.telegram import TelegramConnection
from tgesc.adapters.telegram.journal import journal_since
from tgesc.adapters.telegram.wire import FakeWire
from tgesc.db import database, open_database
from tgesc.domain.errors import NotFound, TgescError
from tgesc.domain.limits import LimitError, read_text_file
from tgesc.domain.rates import Rate
from tgesc.domain.scenario import Scenario, ScenarioError, Step
from tgesc.domain.send_schedule import SendSchedule
from tgesc.domain.telegram import ButtonPress, IncomingMessage
from tgesc.models import Customer
from tgesc.services.config.apply import apply_config, list_entries, parse_toml, put_entry, set_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.telegram.customers import CustomerDesk
from tgesc.services.telegram.delivery import Delivery
from tgesc.services.telegram.dispatch import BotDispatcher
from tgesc.services.tickets import store as tickets
from tgesc.settings import Settings, load_settings
from tgesc.worker import jobs
from tgesc.worker.bot import serve_wakeups

ACTOR = "simulate"
ENV_PREFIX = "TGESC_"
UNLIMITED = Rate(1_000_000, 1)  # Telegram's rates pace real sends; a simulation delivers at once
OWNER_ID = 777_000_001  # who added the bot to the staff chats (never shown)


class VirtualClock:
    """The simulation's time: read by the bot and the jobs, and through its file (written before each command
    line: `publish`) by `tgesc` command lines."""

    def __init__(self, start: datetime, file: Path) -> None:
        self.now, self.file = start, file
        self.publish()

    def __call__(self) -> datetime:
        return self.now

    def move_to(self, instant: datetime) -> None:
        self.now = max(self.now, instant)

    def publish(self) -> None:
        set_virtual_time(self.file, self.now)

    def seconds(self) -> int:
        return int(self.now.timestamp())


class SimulatedDesk:
    """Set up by `open()`, torn down by `close()` (the directory, the database and an embedded Redis go)."""

    def __init__(self, scenario: Scenario, *, config: Path | None, redis_url: str | None,
                 run_command: Callable[[list[str]], int] | None = None) -> None:
        """`run_command`: runs a `tgesc` command line in this process, its exit code (`tgesc.cli.main.run`,
        given by the CLI: this layer is below it); without it, a scenario's `cli` steps are refused."""
        self.scenario, self.config_path, self.redis_url = scenario, config, redis_url
        self.run_command = run_command
        self.names: dict[int, str] = {}  # chat id -> customer key, staff key or tier code
        self.users: dict[str, Any] = {}  # customer / staff key -> the wire's user
        self.staff_keys: set[str] = set()
        self.failures: list[str] = []  # what the bot's handlers failed on, and why
        self._journal_at = 0
        self._command_ran = False  # a command line ran since the last delivery: it may have enqueued wake-ups
        self._tmp: tempfile.TemporaryDirectory | None = None

    # --- set up and tear down --------------------------------------------------------------------------------

    def open(self) -> SimulatedDesk:
        self._tmp = tempfile.TemporaryDirectory(prefix="tgesc-simulate-")
        self.home = Path(self._tmp.name)
        try:
            self.settings = self._settings()
            self.clock = VirtualClock(self.scenario.start, self.home / "clock")
            self.db = open_database(self.settings.database_url, create=True)
            initialise(self.db, now=self.clock(), actor=ACTOR)
            self._apply_config()
            self._add_staff()
            self.redis = connect(self.redis_url or "", self.home)
            self.worker = InlineWorker(self.redis, [self.queue_name, "telegram"])
            jobs.bootstrap(self.settings, clock=self.clock, database=self.db, wake_bot=False, batches=False)
            serve_wakeups(self)
            self._start_bot()
        except BaseException:  # a bad config or staff entry: nothing is left behind (directory, database, Redis)
            self.close()
            raise
        return self

    def close(self) -> None:
        for step in (self._stop_bot, self._close_worker, lambda: self.db.close(), self._stop_redis):
            with contextlib.suppress(Exception):
                step()
        if self._tmp is not None:
            self._tmp.cleanup()

    @property
    def queue_name(self) -> str:
        return f"tgesc-simulate-{os.getpid()}-{id(self)}"

    def _settings(self) -> Settings:
        """This desk's settings: its directory, a database there that is never fsynced (nothing in it has to
        survive a crash: it is deleted at the end), the Redis given, the virtual clock's file; every other one its
        default: no `TGESC_*` variable of the environment and no `.env` file reaches a simulated desk."""
        self.env_file = self.home / "desk.env"
        self.env_file.touch()
        flags = {"home": str(self.home), "database_url": f"sqlite:///{self.home / 'desk.db'}?synchronous=off",
                 "redis_url": self.redis_url or "", "clock": f"file:{self.home / 'clock'}"}
        return load_settings(flags, environ={}, env_file=self.env_file)

    def _apply_config(self) -> None:
        if self.config_path is None:
            return
        source = str(self.config_path)
        try:
            text = read_text_file(self.config_path)
        except LimitError as error:
            raise ScenarioError(f"{self.scenario.name}: field 'config': {error}") from None
        apply_config(self.db, parse_toml(text, source), source=source, prune=False, dry_run=False, actor=ACTOR,
                     now=self.clock())

    def _add_staff(self) -> None:
        for key, person in self.scenario.staff.items():
            try:
                shifts = {"capacity": person.capacity, "calendar": person.calendar}
                put_entry(self.db, "staff", key, {"id": person.id, "name": person.name, "role": person.role,
                                                  "tiers": list(person.tiers), "language": person.language,
                                                  **{k: v for k, v in shifts.items() if v is not None}},
                          actor=ACTOR, now=self.clock())
            except TgescError as error:  # e.g. a tier the configuration does not have, an id it gives another
                raise ScenarioError(f"{self.scenario.name}: field 'staff.{key}': {error.render()}") from None

    def _start_bot(self) -> None:
        self.wire = FakeWire(clock=self.clock.seconds)
        self.owner = owner = self.wire.user(OWNER_ID, first_name="Owner")
        self._add_people()
        desk = CustomerDesk(None, self.settings.rate("flood_limit"))
        dispatcher = BotDispatcher(self.db, desk, self.clock, on_failure=self._failed,
                                   new_tags_by=self.settings.get("new_tags_by"))
        self.connection = TelegramConnection(
            "simulate", self.home, 1, "simulated", self.wire.bot_token, handlers=dispatcher,
            session_factory=self.wire.session_factory, clock=self.clock, session_synchronous="off")
        self.connection.start()
        desk.bot_username = self.connection.bot.username
        for chat_id in self._staff_chats():
            self.connection.feed(self.wire.service(chat_id, owner))  # the bot was added: the client knows it
        for key in self.staff_keys:
            user = self.users[key]
            self.connection.remember_peer(user.id, user.access_hash)  # staff who started the bot in private
        self.delivery = Delivery(self.db, self.connection, SendSchedule(UNLIMITED, UNLIMITED, UNLIMITED),
                                 clock=self.clock, sleep=lambda _seconds: None)
        self._journal_at = len(self.wire.journal)

    def _failed(self, item: IncomingMessage | ButtonPress, error: Exception) -> None:
        """The bot kept `item` as a dead letter: recorded in `failures` (the run fails on the record)."""
        what = "message" if isinstance(item, IncomingMessage) else "button press"
        who = self.names.get(item.sender.id, str(item.sender.id))
        reason = (str(error).strip().splitlines() or [""])[0][:200]
        self.failures.append(f"the bot failed to handle {who}'s {what} ({type(error).__name__}: {reason})")

    def _add_people(self) -> None:
        for key, person in self.scenario.customers.items():
            self.users[key] = self.wire.user(person.id, first_name=person.name, username=person.username,
                                             lang_code=person.language)
            self.names[person.id] = key
            if person.timezone:  # Telegram does not tell a customer's zone: the desk was told beforehand
                Customer.create(telegram_id=person.id, username=person.username, first_name=person.name,
                                language=person.language, timezone=person.timezone, created_at=self.clock(),
                                updated_at=self.clock())
        for key, entry in list_entries(self.db, "staff").items():
            self.users[key] = self.wire.user(entry["id"], first_name=entry.get("name") or key.title(),
                                             username=entry.get("username") or key, lang_code=entry["language"])
            self.names[entry["id"]] = key
            self.staff_keys.add(key)

    def _staff_chats(self) -> list[int]:
        """Each tier's staff chat on the wire: the configured one, else a virtual forum named after the tier."""
        chats = []
        for code, tier in list_entries(self.db, "tiers").items():
            chat_id = tier.get("staff_chat")
            if chat_id is None:
                chat_id = self.wire.supergroup(code, forum=True)
                set_entry(self.db, "tiers", code, {"staff_chat": chat_id, "forum": True}, actor=ACTOR,
                          now=self.clock())
            elif tier.get("forum") or chat_id <= -1_000_000_000_000:
                self.wire.supergroup(code, forum=bool(tier.get("forum")), chat_id=chat_id)
            else:
                self.wire.group(code, chat_id=chat_id)
            self.names[chat_id] = code
            chats.append(chat_id)
        return chats

    def _stop_bot(self) -> None:
        self.connection.stop()

    def _close_worker(self) -> None:
        self.worker.close(delete_queues=True)

    def _stop_redis(self) -> None:
        if hasattr(self, "redis"):
            self.redis.close()
        if not self.redis_url:
            stop_embedded(self.home)

    # --- what people do --------------------------------------------------------------------------------------

    def customer_says(self, step: Step) -> None:
        user = self.users[step.customer]
        if step.attachment:
            self.connection.feed(self.wire.private_media(user, step.attachment, caption=step.text or ""))
        else:
            self.connection.feed(self.wire.private_text(user, step.text))

    def staff_says(self, step: Step) -> None:
        if step.chat is not None:
            self.connection.feed(self.wire.group_text(self._chat_named(step), self.users[step.staff], step.text))
            return
        try:
            ticket = tickets.find(step.ticket)
        except NotFound:
            raise self.step_error(step, "ticket", f"there is no ticket #{step.ticket} at this point") from None
        if ticket.staff_chat_id is None or (ticket.topic_id is None and ticket.card_message_id is None):
            raise self.step_error(step, "ticket", f"ticket #{step.ticket} has no staff thread yet")
        self.connection.feed(self.wire.group_text(
            ticket.staff_chat_id, self.users[step.staff], step.text, thread_id=ticket.topic_id,
            reply_to=None if ticket.topic_id else ticket.card_message_id))

    def _chat_named(self, step: Step) -> int:
        """The chat a staff step names: a tier's staff chat by its code, or a group the bot was added to, made the
        first time a step names it (`group:TITLE`: a basic group; `forum:TITLE`: a forum supergroup)."""
        known = {name: chat_id for chat_id, name in self.names.items() if chat_id < 0}
        if step.chat in known:
            return known[step.chat]
        kind, _, title = step.chat.partition(":")
        if kind not in ("group", "forum") or not title.strip():
            tiers = ", ".join(sorted(name for name in known if ":" not in name)) or "none"
            raise self.step_error(step, "chat", f"{step.chat!r} is no tier's staff chat (they are: {tiers}), nor a "
                                                "new group named \"group:TITLE\" or \"forum:TITLE\"")
        chat_id = self.wire.group(title) if kind == "group" else self.wire.supergroup(title, forum=True)
        self.connection.feed(self.wire.service(chat_id, self.owner))  # the bot was added to it
        self.names[chat_id] = step.chat
        return chat_id

    def press(self, step: Step, sent: list[dict[str, Any]]) -> str:
        """The customer presses the button whose callback data ends in `step.press`, on the last message with
        buttons the bot sent them (`sent`: the bot's messages with buttons so far); the button's label."""
        user = self.users[step.customer]
        with_buttons = [m for m in sent if m["outgoing"] and m["chat_id"] == user.id and m["buttons"]]
        if not with_buttons:
            raise self.step_error(step, "press", f"the bot has sent {step.customer} no message with buttons")
        last = with_buttons[-1]
        found = [(label, data) for row in last["buttons"] for label, data in row if data.endswith(step.press)]
        if not found:
            labels = ", ".join(label for row in last["buttons"] for label, _ in row)
            raise self.step_error(step, "press", f"no button's callback data ends in {step.press!r} ({labels})")
        label, data = found[-1]
        self.connection.feed(self.wire.callback(user, user.id, last["message_id"], data))
        return label

    def cli(self, step: Step) -> str:
        """Run the step's command line against this desk, as `tgesc ...` would; its output."""
        if self.run_command is None:
            raise self.step_error(step, "cli", "command lines cannot run here (no command runner was given)")
        self.clock.publish()
        argv = ["--home", str(self.home), "--database-url", self.settings.database_url, *step.cli]
        out, err = io.StringIO(), io.StringIO()
        with _environment(TGESC_CLOCK=self.settings.get("clock"), TGESC_REDIS_URL=self.redis_url or "",
                          TGESC_ENV_FILE=str(self.env_file)), \
                contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = self.run_command(argv)
        database.initialize(self.db)  # the command bound the models to its own connection
        self._command_ran = True
        if code != 0:
            reason = (err.getvalue().strip() or out.getvalue().strip()).replace("Error: ", "", 1)
            raise self.step_error(step, "cli", f"`tgesc {step.cli_line}` exited {code}: {reason}")
        return out.getvalue()

    # --- the bot's side --------------------------------------------------------------------------------------

    def deliver(self) -> None:
        """Send everything the outbox holds that is due (answers to presses first), after running the `telegram`
        jobs a command line enqueued to wake the bot (the sender is this desk's delivery). Nothing else here
        enqueues them: the sweeps' jobs do not wake the bot, the bot is this desk's."""
        if self._command_ran:
            self.worker.run_pending()
            self._command_ran = False
        self.delivery.pump(0)

    def wake(self) -> None:
        """What a `telegram` job does here: nothing more, `deliver` sends the outbox right after the jobs."""

    def take_messages(self) -> list[dict[str, Any]]:
        """The messages that crossed the wire since the last call, oldest first."""
        entries, self._journal_at = journal_since(self.wire, self._journal_at)
        return entries

    def step_error(self, step: Step, field: str, reason: str) -> ScenarioError:
        return ScenarioError(f"{step.story or self.scenario.name}: step {step.number}: field '{field}': {reason}")

    def advance(self, seconds: float) -> None:
        self.clock.move_to(self.clock() + timedelta(seconds=seconds))


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    """The `TGESC_*` variables of the environment are `values` and no other for the block (then restored)."""
    saved = {name: value for name, value in os.environ.items() if name.startswith(ENV_PREFIX)}
    for name in saved:
        del os.environ[name]
    os.environ.update(values)
    try:
        yield
    finally:
        for name in [name for name in os.environ if name.startswith(ENV_PREFIX)]:
            del os.environ[name]
        os.environ.update(saved)
