"""`tgesc customer ...`: the people who write to the desk: list, show, their portrait (tag, note, set), ban, unban.

A customer is named by their Telegram user id (`1001`) or @username. Times are shown in the viewer's zone (--tz or
TGESC_TIMEZONE), in --json too (ISO 8601 with the offset).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import typer

from tgesc.cli.context import current_time, in_viewer_zone, state
from tgesc.cli.entries import AS_OPTION, TAG_ADD, TAG_CHANGES, TAG_REMOVE, duration
from tgesc.cli.output import JSON_OPTION, emit, emit_page, info
from tgesc.cli.parsing import free_text, whole_number
from tgesc.cli.parsing import language as language_code
from tgesc.domain.limits import LIMIT, TELEGRAM_USER_ID

app = typer.Typer(help="Customers: who wrote to the desk, their tickets, and bans.", no_args_is_help=True)
WHO = typer.Argument(..., metavar="CUSTOMER", help="Telegram user id (e.g. 1001) or @username.")
LIST_COLUMNS = ["id", "username", "name", "language", "tags", "tickets", "open", "banned until"]
PAGE = 50  # customers a page unless asked otherwise


@app.callback()
def customer() -> None:
    """Customers: everyone who wrote to the bot, with their tickets and bans. A banned customer's messages are
    still stored, but open no ticket, trigger nothing and get no answer but one notice per ban.
    """


def _row(record: dict[str, Any]) -> dict[str, Any]:
    until = "" if not record["banned"] else (record["banned_until"] or "until lifted").replace("T", " ")[:16]
    return {"id": record["id"], "username": f"@{record['username']}" if record["username"] else "",
            "name": record["name"], "language": record["language"], "tags": ", ".join(record["tags"]),
            "tickets": record["tickets"],
            "open": record["open_tickets"], "banned until": until}


def _acting(db: Any, as_: str | None) -> Any:
    """The staff member --as names (checked: active), or None for the operator."""
    from tgesc.services.tickets.permissions import active_staff

    return active_staff(db, as_) if as_ else None


@app.command("list")
def list_(
    banned: bool = typer.Option(False, "--banned", help="Only the customers banned now."),
    limit: int = typer.Option(None, "--limit", parser=whole_number(LIMIT), metavar="N",
                              help="At most this many, by Telegram id (default 50; 0: all, as --all)."),
    after: int = typer.Option(None, "--after", parser=whole_number(TELEGRAM_USER_ID), metavar="ID",
                              help="Only customers with a higher Telegram id: the next page, as the last one printed "
                                   "it."),
    all_: bool = typer.Option(False, "--all", help="Every customer that matches, written as it is read."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The customers by Telegram id, with their tickets and ban, a page at a time.

    A page holds 50 customers (--limit); under the table, how many match in all and the command for the next page
    (--after the last one's id). --all writes every customer as it is read (--json: one a line). With --json the
    rows are one JSON array; the count and the next command go to stderr.

    Examples:

      tgesc customer list

      tgesc customer list --banned

      tgesc customer list --all --json | jq -r '.[] | select(.open_tickets > 1) | .id'
    """
    from tgesc.cli.output import stream_rows
    from tgesc.services.customers import directory

    if all_ and limit:
        raise typer.BadParameter("--all lists every customer: leave --limit out (or use --limit N alone)")
    db, now = state().database(), current_time()
    shown = (lambda record: record) if as_json else _row
    if all_ or limit == 0:
        found = directory.stream_customers(db, now=now, banned_only=banned, after=after)
        rows = (shown(in_viewer_zone(r)) for r in found)
        stream_rows(rows, as_json, columns=LIST_COLUMNS, noun="customers")
        return
    limit = limit or PAGE
    records = [in_viewer_zone(r) for r in directory.list_customers(db, now=now, banned_only=banned, limit=limit + 1,
                                                           after=after)]
    options = [*(["--banned"] if banned else []), *([f"--limit {limit}"] if limit != PAGE else []),
               *(["--json"] if as_json else [])]
    emit_page(records, limit, as_json, " ".join(["tgesc customer list", *options, "--after"]), columns=LIST_COLUMNS,
              shown=shown, total=directory.count_customers(db, now=now, banned_only=banned), noun="customers")


@app.command("show")
def show(who: str = WHO, as_json: bool = JSON_OPTION) -> None:
    """One customer: identity, language and zone, tickets, and their ban if any.

    Examples:

      tgesc customer show 1001

      tgesc customer show @alice --json | jq .open_tickets
    """
    from tgesc.services.customers import directory

    db = state().database()
    with db.atomic():
        emit(in_viewer_zone(directory.describe(db, directory.find(db, who), current_time())), as_json)


@app.command("ban")
def ban(
    who: str = WHO,
    for_: str = typer.Option(None, "--for", parser=duration, metavar="DURATION",
                             help="How long, e.g. 7d or 12h (default: until `tgesc customer unban`)."),
    reason: str = typer.Option(..., "--reason", parser=free_text, metavar="TEXT",
                               help="Why (required): the audit log and the team read it."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Ban a customer: what they write is kept, unanswered.

    While banned, their messages are stored but open no ticket, trigger nothing and get no answer but one notice
    saying until when. Banning a banned customer again replaces the end and the reason. With --as, the staff
    member must be a team lead or an admin.

    Examples:

      tgesc customer ban 1001 --for 7d --reason "abusive language to staff"

      tgesc customer ban @spammer --reason "advertising bot"
    """
    from tgesc.db import write_transaction
    from tgesc.domain.durations import parse_duration
    from tgesc.services.customers import bans, directory

    db, now = state().database(), current_time()
    until = now + timedelta(seconds=parse_duration(for_)) if for_ else None
    with write_transaction(db):
        found = bans.ban(db, directory.find(db, who), until=until, reason=reason, actor=state().actor(as_), now=now,
                         by=_acting(db, as_))
        record = directory.describe(db, found, now)
    shown = in_viewer_zone(record)
    emit(shown, as_json)
    info(f"Banned customer {record['id']} " + (f"until {shown['banned_until']}." if until else
                                               "until `tgesc customer unban`."))


@app.command("unban")
def unban(
    who: str = WHO,
    reason: str = typer.Option("", "--reason", parser=free_text, metavar="TEXT", help="Why, for the audit log."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Lift a customer's ban.

    What they write from now on is handled as anyone's; what they wrote while banned stays stored, unanswered.

    Example:

      tgesc customer unban 1001 --reason "apologised"
    """
    from tgesc.db import write_transaction
    from tgesc.services.customers import bans, directory

    db, now = state().database(), current_time()
    with write_transaction(db):
        found = bans.unban(db, directory.find(db, who), actor=state().actor(as_), now=now, reason=reason,
                           by=_acting(db, as_))
        record = directory.describe(db, found, now)
    emit(in_viewer_zone(record), as_json)
    info(f"Lifted the ban of customer {record['id']}.")


def _changed(change: Any, who: str, as_: str | None, as_json: bool, done: str, **values: Any) -> None:
    """Run `change(db, customer, ..., actor, now)` on the customer `who` names in a write transaction; print the
    customer as it is then, and `done` (with `{id}`) on stderr."""
    from tgesc.db import write_transaction
    from tgesc.services.customers import directory

    db, now = state().database(), current_time()
    with write_transaction(db):
        customer = directory.find(db, who)
        change(db, customer, **values, actor=state().actor(as_), now=now)
        record = directory.describe(db, customer, now)
    emit(in_viewer_zone(record), as_json)
    info(done.format(id=record["id"]))


@app.command("tag")
def tag(
    who: str = WHO,
    changes: list[str] = TAG_CHANGES,
    add: list[str] = TAG_ADD,
    remove: list[str] = TAG_REMOVE,
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add and remove the customer's tags (their portrait: shown on every card of theirs).

    Examples:

      tgesc customer tag 1001 -- +vip +reseller

      tgesc customer tag @alice --remove vip
    """
    from tgesc.cli.ticket_render import tag_changes
    from tgesc.services.customers import portrait

    added, removed = tag_changes(changes or [], add or [], remove or [])
    _changed(portrait.retag, who, as_, as_json, "Retagged customer {id}.", add=added, remove=removed)


@app.command("note")
def note(
    who: str = WHO,
    text: str = typer.Argument(..., parser=free_text, metavar="TEXT", help="The note (never shown to the customer)."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Keep a note about the customer: staff read the newest three on every card of theirs.

    Example:

      tgesc customer note 1001 "Prefers email follow-ups; CFO of a reseller"
    """
    from tgesc.services.customers import portrait

    _changed(portrait.add_note, who, as_, as_json, "Noted on customer {id}.", text=text)


@app.command("set")
def set_(
    who: str = WHO,
    tz: str = typer.Option(None, "--tz", metavar="ZONE", help="Their time zone: an IANA zone or a city (berlin, "
                                                              "new york); every time told to them is in it."),
    language: str = typer.Option(None, "--language", parser=language_code, metavar="CODE",
                                 help="Their language (en, zh, ru); Telegram's no longer overrides it."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Set the customer's time zone and/or language.

    Examples:

      tgesc customer set 1001 --tz Europe/Berlin

      tgesc customer set @wang --tz shanghai --language zh
    """
    from tgesc.services.customers import portrait

    _changed(portrait.update, who, as_, as_json, "Updated customer {id}.", timezone=tz, language=language)
