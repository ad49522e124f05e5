"""`tgesc ticket ...`: open, list, show and work tickets; answer the customer and add what they said by another
channel; escalate them L1 → L2 → L3; turn solved cases into FAQ.

Every changing command is recorded with its actor (`--as HANDLE`: an active staff member who may work the
ticket, as in Telegram; default the operator, as the configured actor or `cli`) and prints where the ticket
stands (number, status, tier, priority, emotion, tags, assignee); the message saying what happened goes to
stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import typer

from tgesc.cli.context import current_time, state
from tgesc.cli.entries import AS_OPTION, DRY_RUN_OPTION, TAG_ADD, TAG_CHANGES, TAG_REMOVE
from tgesc.cli.output import JSON_OPTION, emit
from tgesc.cli.parsing import choice, choices_metavar, free_text, language, moment_or_ago, name, whole_number
from tgesc.cli.sweeping import ONCE_OPTION
from tgesc.domain.errors import UsageError
from tgesc.domain.limits import LIMIT, TELEGRAM_MESSAGE_ID, TELEGRAM_USER_ID, TICKET_NUMBER
from tgesc.domain.vocabulary import EMOTIONS, PRIORITIES, TICKET_STATUSES

app = typer.Typer(help="Tickets: the queue, the context card, staff actions, escalation, FAQ.", no_args_is_help=True)
NUMBER = typer.Argument(..., parser=whole_number(TICKET_NUMBER), metavar="N", help="Ticket number, e.g. 1042.")
STATUSES = (*TICKET_STATUSES, "all")


def _priority_option(help_text: str, multiple: bool = False):
    return typer.Option(None, "--priority", parser=choice(PRIORITIES), metavar=choices_metavar(PRIORITIES),
                        help=help_text + (" Repeatable." if multiple else ""))


def _done(ticket, as_json: bool, message: str | Callable[[dict[str, Any]], str]) -> None:
    """A changing command's output: the ticket's short record on stdout, what happened on stderr
    (`message` may be made from the record)."""
    from tgesc.cli.output import info
    from tgesc.services.tickets.views import summary

    record = summary(state().database(), ticket)
    emit(record, as_json)
    info(message if isinstance(message, str) else message(record))


def _change(function, number: int, as_: str | None, **kwargs: Any):
    """Call a ticket service the usual way: the database, the number, the actor (`--as`: an active staff member
    of the ticket's tier, or an admin) and now; then wake the bot for the Telegram messages the change queued
    (escalation notices, cards)."""
    from tgesc.cli.wake import waking_bot
    from tgesc.services.tickets.permissions import acting_on

    database = state().database()
    with waking_bot():
        return acting_on(database, number, function, as_handle=as_, fallback=state().operator(), now=current_time(),
                         **kwargs)


def _may_create_tags(handle: str) -> None:
    """--new --as HANDLE: the staff member may create tags under the new_tags_by setting (as in Telegram)."""
    from tgesc.domain.errors import NotPermitted
    from tgesc.domain.ticket_rules import may_create_tags
    from tgesc.services.tickets.permissions import active_staff

    staff, policy = active_staff(state().database(), handle), state().settings().get("new_tags_by")
    if not may_create_tags(staff.role, policy):
        raise NotPermitted(f"--new --as {handle}: only team leads and admins may create tags ({handle} is "
                           f"{staff.role}; TGESC_NEW_TAGS_BY=staff lets every staff member)")


@app.command("open")
def open_(
    customer: int = typer.Option(..., "--customer", parser=whole_number(TELEGRAM_USER_ID), metavar="ID",
                                 help="The customer's Telegram user id."),
    text: list[str] = typer.Option(..., "--text", parser=free_text, metavar="TEXT",
                                   help="The problem in the customer's own words; repeat for each further message."),
    username: str = typer.Option(None, "--username", parser=name(), metavar="NAME",
                                 help="Telegram username of a new customer."),
    lang: str = typer.Option(None, "--lang", parser=language, metavar="LANG", help="Language of a new customer."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Open a ticket for a case that came through another channel (phone, e-mail).

    Each --text is a message of the customer, stored on the ticket and reacted to exactly as one sent to the
    bot: the rules run, FAQ answers and the comfort reply go to the customer, the card to the front line's
    staff chat. A new ticket is opened even when the customer has one open. With --as, the actor must be
    front-line staff (or an admin).

    Examples:

      tgesc ticket open --customer 123456789 --text "I was charged twice for March"

      tgesc ticket open --customer 123456789 --text "The app crashes" --text "Since the last update" --as bob

      tgesc ticket open --customer 987654321 --username ana --lang zh --text "我的账号被封了"
    """
    from tgesc.cli.wake import waking_bot
    from tgesc.services.tickets.channel_messages import open_ticket
    from tgesc.services.tickets.permissions import acting_at_front_line

    database = state().database()
    with waking_bot():
        actor = acting_at_front_line(database, as_, state().operator())
        ticket = open_ticket(database, customer, text, actor=actor, now=current_time(),
                             username=username.lstrip("@") if username else None, language=lang)
    _done(ticket, as_json, f"Opened ticket #{ticket.number}.")


@app.command("message")
def message(
    number: int = NUMBER,
    text: str = typer.Argument(..., parser=free_text, metavar="TEXT", help="What the customer said."),
    from_customer: bool = typer.Option(False, "--from-customer",
                                       help="The customer wrote or said it (required: a staff answer is "
                                            "`ticket reply`)."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a customer's follow-up that came by another channel (phone, e-mail) to their ticket.

    The message is stored and reacted to exactly as one sent to the bot: the rules run, a waiting ticket
    resumes, FAQ answers and replies go to the customer, and it shows in the staff thread. It continues
    ticket N when that is open or waiting; on a resolved or closed ticket it goes where the customer's
    Telegram message would (reopening it, or a new ticket): stdout shows the ticket it is on. With --as,
    the actor must be staff of the ticket's tier (or an admin).

    Examples:

      tgesc ticket message 1042 --from-customer "I called: the refund still has not arrived"

      tgesc ticket message 1042 --from-customer "screenshot sent by e-mail to billing@" --as bob
    """
    from tgesc.services.tickets.channel_messages import customer_message

    if not from_customer:
        raise typer.BadParameter("say who wrote it: --from-customer (a staff answer is `tgesc ticket reply N TEXT`)")
    ticket = _change(customer_message, number, as_, text=text)
    _done(ticket, as_json, f"Added the customer's message to ticket #{ticket.number}"
                           + ("." if ticket.number == number else f" (#{number} was no longer open)."))


@app.command("reply")
def reply(
    number: int = NUMBER,
    text: str = typer.Argument(..., parser=free_text, metavar="TEXT", help="The answer for the customer."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Answer the customer: the text is relayed to them through the bot, as a reply in the staff thread is.

    It counts as the first or next response for the SLA clocks, is kept in the ticket's conversation and is
    shown in the ticket's staff thread. With --as, the actor must be staff of the ticket's tier (or an
    admin); without it the answer is the operator's (TGESC_ACTOR, else cli).

    Examples:

      tgesc ticket reply 1042 "Thanks, I can see the double charge; the refund is on its way." --as bob

      tgesc ticket reply 1042 "Could you send a screenshot of the error?"
    """
    from tgesc.services.tickets.channel_messages import reply as reply_to_customer

    _done(_change(reply_to_customer, number, as_, text=text), as_json, f"Relayed the answer to the customer of "
                                                                          f"ticket #{number}.")


@app.command("list")
def list_(
    status: list[str] = typer.Option(None, "--status", parser=choice(STATUSES), metavar=choices_metavar(STATUSES),
                                     help="Only these statuses (repeatable; default: open and waiting)."),
    tier: list[str] = typer.Option(None, "--tier", help="Only tickets at this tier (repeatable)."),
    priority: list[str] = _priority_option("Only this priority.", multiple=True),
    tag: list[str] = typer.Option(None, "--tag", help="Only tickets with this tag (repeatable: all of them)."),
    assignee: str = typer.Option(None, "--assignee", help="Only tickets assigned to this staff handle."),
    breaching: bool = typer.Option(False, "--breaching",
                                   help="Only open or waiting tickets with a clock past its deadline, not met yet."),
    customer: str = typer.Option(None, "--customer", metavar="WHO",
                                 help="Only this customer's tickets: a Telegram user id or @username."),
    since: str = typer.Option(None, "--since", metavar="WHEN",
                              help="Only tickets opened at or after WHEN: an instant or date, or a duration back "
                                   "from now (7d, 36h)."),
    until: str = typer.Option(None, "--until", metavar="WHEN", help="Only tickets opened before WHEN (as --since)."),
    limit: int = typer.Option(None, "--limit", parser=whole_number(LIMIT), metavar="N",
                              help="At most this many tickets (default 50; 0: all, as --all)."),
    after: str = typer.Option(None, "--after", metavar="PLACE",
                              help="Start after this place in the queue, as the last page printed it."),
    all_: bool = typer.Option(False, "--all", help="Every ticket that matches, written as it is read."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The ticket queue, most urgent deadline first, a page at a time.

    The next deadline is the earliest due instant of a running SLA clock, in the viewer's zone (--tz or
    TGESC_TIMEZONE); `overdue` marks one already past. --breaching keeps only those tickets. A page holds 50
    tickets (--limit); under the table, how many match in all and the command for the next page (--after the
    last one's place): a ticket appears once however the queue changes between pages, unless its own deadline
    moved behind the page. --all writes every ticket as it is read (--json: one a line). With --json the rows
    are one JSON array; the count and the next command go to stderr. Each JSON row has the ticket's
    lifecycle instants, null until they happen: opened_at, first_response_at, resolved_at and closed_at
    (a reopened ticket's clocks start again: its first response, resolution and closing are those since).

    --since and --until keep the tickets opened in that window: WHEN is an ISO 8601 instant or date (a date
    is midnight, a time without an offset is in the viewer's zone), or a duration back from now (30d, 36h,
    1h30m). The next page's command carries them as instants, so the window holds still.

    Examples:

      tgesc ticket list

      tgesc ticket list --tier L2 --priority urgent --priority high --breaching

      tgesc ticket list --status all --since 7d --customer @alice

      tgesc ticket list --status all --since 2026-03-02 --until 2026-03-09 --limit 200 --json

      tgesc ticket list --limit 20 --after 1042@2026-03-02T10:05:00Z

      tgesc ticket list --status all --tag refund --all --json | jq -r '.[].number'
    """
    from tgesc.cli.ticket_render import LIST_COLUMNS, list_footer, list_row
    from tgesc.domain.vocabulary import OPEN_STATUSES
    from tgesc.services.tickets import queue

    if all_ and limit:
        raise typer.BadParameter("--all lists every ticket: leave --limit out (or use --limit N alone)")
    zone, now = state().settings().timezone, current_time()
    opened = [moment_or_ago(since, "--since", zone, now), moment_or_ago(until, "--until", zone, now)]
    if None not in opened and opened[0] >= opened[1]:
        raise UsageError(f"--since {since} is not before --until {until}: no ticket can be opened in between")
    wanted = queue.Wanted(statuses=TICKET_STATUSES if "all" in (status or []) else (status or OPEN_STATUSES),
                          tiers=tier or (), priorities=priority or (), tags=tag or (), assignee=assignee,
                          breaching=breaching, customer=customer, since=opened[0], until=opened[1])
    place = queue.Position.parse(after) if after is not None else None
    database = state().database()
    if all_ or limit == 0:
        _stream_list(queue.stream(database, wanted, now=now, after=place), wanted, zone, as_json)
        return
    page = queue.page(database, wanted, now=now, after=place, limit=limit or queue.PAGE)
    emit([list_row(row, zone, as_json) for row in page.rows], as_json, columns=LIST_COLUMNS)
    footer = list_footer(wanted, len(page.rows), page.total, page.next, limit, as_json, more=page.more)
    print(footer, file=sys.stderr if as_json else sys.stdout)


def _stream_list(rows: Iterator[dict[str, Any]], wanted: Any, zone: str, as_json: bool) -> None:
    """`ticket list --all`: every row written as it is read, the count under a table."""
    from tgesc.cli.output import stream_rows
    from tgesc.cli.ticket_render import LIST_COLUMNS, list_noun, list_row

    stream_rows((list_row(row, zone, as_json) for row in rows), as_json, columns=LIST_COLUMNS, noun=list_noun(wanted))


@app.command("show")
def show(number: int = NUMBER, as_json: bool = JSON_OPTION) -> None:
    """The context card of one ticket, for whoever takes it over.

    Header, the six core items (customer, problem, tried, key messages, emotion, priority), the handover
    checklist with what is missing, the SLA clocks (due in the viewer's zone, time left) and the timeline
    of events and messages. --json prints the document the staff card is made from.

    Examples:

      tgesc ticket show 1042

      tgesc --tz Asia/Shanghai ticket show 1042 --json | jq .checklist.missing
    """
    from zoneinfo import ZoneInfo

    from tgesc.cli.ticket_render import show_text
    from tgesc.services.tickets.views import document

    zone = state().settings().timezone
    doc = document(state().database(), number, now=current_time(), zone=ZoneInfo(zone), messages=not as_json)
    emit(doc, True) if as_json else print(show_text(doc, zone))


@app.command("escalate")
def escalate(
    number: int = NUMBER,
    to: str = typer.Option(None, "--to", help="Target tier (default: the next one up; with --quick the top; with "
                                             "--down the next one down)."),
    reason: str = typer.Option(..., "--reason", parser=free_text, metavar="TEXT",
                               help="Why: the next tier reads it first."),
    priority: str = _priority_option("Also set this priority."),
    quick: bool = typer.Option(False, "--quick", help="Obviously urgent: skip the handover checklist."),
    down: bool = typer.Option(False, "--down", help="Send the ticket back to a lower tier: the reason is enough, "
                                                    "no checklist."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Escalate a ticket to another tier with its whole context.

    Up, unless --quick, the handover checklist must be complete (when the problem first occurred, evidence,
    what was tried, when the customer expects a resolution); otherwise every missing item is listed.
    Back down (--down) the reason is enough. The customer is told (in their language, with the expected
    reply time, and that the team is off duty if so) and the tier's staff chat gets the context card. An
    assignee who does not work in the new tier is unassigned. With --as, the actor must be staff of the
    ticket's tier (or an admin).

    Examples:

      tgesc ticket escalate 1042 --to L2 --reason "refund over the L1 limit"

      tgesc ticket escalate 1042 --quick --priority urgent --reason "data leak reported"

      tgesc ticket escalate 1042 --to L1 --down --reason "answered; L1 follows up"
    """
    from tgesc.services.tickets.escalation import escalate_ticket

    ticket = _change(escalate_ticket, number, as_, to=to, reason=reason, quick=quick, priority=priority, down=down)
    _done(ticket, as_json, lambda record: f"Escalated ticket #{number} to {record['tier']}.")


@app.command("tried")
def tried(number: int = NUMBER,
          text: str = typer.Argument(..., parser=free_text, metavar="TEXT", help="What was tried."),
          as_: str = AS_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Record a solution the front line tried (a checklist item; who and when are recorded).

    Example:

      tgesc ticket tried 1042 "asked the customer to log out and in again" --as alice
    """
    from tgesc.services.tickets.actions import add_tried

    _done(_change(add_tried, number, as_, text=text), as_json, f"Recorded a tried solution on ticket #{number}.")


@app.command("note")
def note(number: int = NUMBER,
         text: str = typer.Argument(..., parser=free_text, metavar="TEXT", help="The note (staff only)."),
         as_: str = AS_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Add an internal note to the ticket's timeline (the customer never sees it).

    Example:

      tgesc ticket note 1042 "customer called again, very upset"
    """
    from tgesc.services.tickets.actions import add_note

    _done(_change(add_note, number, as_, text=text), as_json, f"Added a note to ticket #{number}.")


@app.command("assign")
def assign(
    number: int = NUMBER,
    staff: str = typer.Argument(None, help="Staff handle (see `tgesc staff list`)."),
    unassign: bool = typer.Option(False, "--unassign", help="Remove the assignee instead."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Assign the ticket to a staff member (or remove the assignee).

    Examples:

      tgesc ticket assign 1042 bob

      tgesc ticket assign 1042 --unassign
    """
    from tgesc.services.tickets.actions import assign as assign_ticket

    if (staff is None) == (not unassign):
        raise typer.BadParameter("give either a STAFF handle or --unassign")
    ticket = _change(assign_ticket, number, as_, handle=staff)
    _done(ticket, as_json, f"Ticket #{number} is {'assigned to ' + staff if staff else 'unassigned'}.")


@app.command("priority")
def priority_(
    number: int = NUMBER,
    priority: str = typer.Argument(..., parser=choice(PRIORITIES), metavar=choices_metavar(PRIORITIES),
                                   help="The new priority."),
    reason: str = typer.Option("", "--reason", parser=free_text, metavar="TEXT", help="Why (kept in the timeline)."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change the priority; the ticket's SLA clocks move to that priority's current policy.

    Example:

      tgesc ticket priority 1042 urgent --reason "VIP customer"
    """
    from tgesc.services.tickets.actions import set_priority

    ticket = _change(set_priority, number, as_, priority=priority, reason=reason)
    _done(ticket, as_json, f"Ticket #{number} now has priority {priority}.")


@app.command("tag")
def tag(
    number: int = NUMBER,
    changes: list[str] = TAG_CHANGES,
    add: list[str] = TAG_ADD,
    remove: list[str] = TAG_REMOVE,
    new: bool = typer.Option(False, "--new", help="Allow a tag no rule sets and no ticket has yet (with --as: a team "
                                                  "lead or admin, unless TGESC_NEW_TAGS_BY=staff)."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add and remove tags. Unknown tags (typos) are refused unless --new.

    Examples:

      tgesc ticket tag 1042 -- +vip -refund

      tgesc ticket tag 1042 --add vip --remove refund

      tgesc ticket tag 1042 --new --add chargeback-2026
    """
    from tgesc.cli.ticket_render import tag_changes
    from tgesc.services.tickets.actions import retag

    added, removed = tag_changes(changes or [], add or [], remove or [])
    if new and as_:
        _may_create_tags(as_)
    ticket = _change(retag, number, as_, add=added, remove=removed, allow_new=new)
    _done(ticket, as_json, f"Retagged ticket #{number}.")


@app.command("checklist")
def checklist(
    number: int = NUMBER,
    first_occurred: str = typer.Option(None, "--first-occurred", metavar="WHEN",
                                       help="When the problem first occurred."),
    expected_by: str = typer.Option(None, "--expected-by", metavar="WHEN",
                                    help="When the customer expects it solved."),
    evidence: bool = typer.Option(None, "--evidence/--no-evidence", help="Screenshots or logs were provided."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Fill in the handover checklist that escalation needs.

    WHEN is an ISO 8601 instant (2026-03-02T09:30+01:00, 2026-03-02T08:30Z) or date (2026-03-02: local
    midnight); a date or time without an offset is in the viewer's zone (--tz or TGESC_TIMEZONE).

    Examples:

      tgesc ticket checklist 1042 --first-occurred 2026-03-01 --evidence

      tgesc --tz Europe/Berlin ticket checklist 1042 --expected-by "2026-03-03 18:00"
    """
    from tgesc.cli.ticket_render import typed_instant
    from tgesc.services.tickets.actions import set_checklist

    zone = state().settings().timezone
    ticket = _change(set_checklist, number, as_, evidence=evidence,
                     first_occurred_at=typed_instant(first_occurred, zone, "--first-occurred"),
                     expected_resolution_by=typed_instant(expected_by, zone, "--expected-by"))
    _done(ticket, as_json, f"Updated the checklist of ticket #{number}.")


@app.command("emotion")
def emotion(
    number: int = NUMBER,
    level: str = typer.Argument(..., parser=choice(EMOTIONS), metavar=choices_metavar(EMOTIONS),
                                help="The customer's emotion as staff judge it."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Override the assessed emotion (later messages no longer change it).

    Example:

      tgesc ticket emotion 1042 angry
    """
    from tgesc.services.tickets.actions import set_emotion

    _done(_change(set_emotion, number, as_, emotion=level), as_json, f"Ticket #{number}: emotion set to {level}.")


@app.command("mark")
def mark(
    number: int = NUMBER,
    message_id: int = typer.Argument(..., parser=whole_number(TELEGRAM_MESSAGE_ID), metavar="MESSAGE_ID",
                                     help="Telegram message id, as `ticket show` lists it (#ID)."),
    unmark: bool = typer.Option(False, "--unmark", help="No longer a key message."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Mark a message as key: it always shows among the key messages of the context card.

    Examples:

      tgesc ticket mark 1042 5531

      tgesc ticket mark 1042 5531 --unmark
    """
    from tgesc.services.tickets.messages import mark_key

    ticket = _change(mark_key, number, as_, message_id=message_id, key=not unmark)
    _done(ticket, as_json, f"Message {message_id} of ticket #{number} is {'no longer ' if unmark else ''}"
                                 "marked as key.")


@app.command("resolve")
def resolve(
    number: int = NUMBER,
    survey: bool = typer.Option(True, "--survey/--no-survey",
                                help="Schedule the return-visit survey (survey_delay later, in the customer's "
                                     "daytime: survey_hours)."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Resolve an open or waiting ticket; a return-visit survey follows unless --no-survey.

    Examples:

      tgesc ticket resolve 1042

      tgesc ticket resolve 1042 --no-survey --as bob
    """
    from tgesc.services.tickets.actions import resolve as resolve_ticket

    _done(_change(resolve_ticket, number, as_, survey=survey, survey_policy=state().settings().survey_policy),
          as_json, f"Resolved ticket #{number}.")


@app.command("reopen")
def reopen(
    number: int = NUMBER,
    reason: str = typer.Option("", "--reason", parser=free_text, metavar="TEXT", help="Why (kept in the timeline)."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Reopen a resolved or closed ticket: its SLA clocks start again, a pending survey is cancelled.

    Example:

      tgesc ticket reopen 1042 --reason "the refund did not arrive"
    """
    from tgesc.services.tickets.actions import reopen as reopen_ticket

    _done(_change(reopen_ticket, number, as_, reason=reason), as_json, f"Reopened ticket #{number}.")


@app.command("close")
def close(number: int = NUMBER, as_: str = AS_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Close a ticket (no survey); `reopen` brings it back.

    Example:

      tgesc ticket close 1042
    """
    from tgesc.services.tickets.actions import close as close_ticket

    _done(_change(close_ticket, number, as_), as_json, f"Closed ticket #{number}.")


@app.command("wait")
def wait(
    number: int = NUMBER,
    reply: str = typer.Option(None, "--reply", parser=free_text, metavar="TEXT",
                              help="Sent to the customer first, as a staff answer (the first or next response)."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Put an open ticket to wait on the customer: its SLA clocks pause (per the policy's pause_when_waiting)
    until the customer writes. Without an answer the customer is reminded after the lifecycle's
    waiting_remind_after, and the ticket is resolved after waiting_resolve_after.

    Examples:

      tgesc ticket wait 1042 --reply "Could you send a screenshot of the error?"

      tgesc ticket wait 1042 --as bob
    """
    from tgesc.services.tickets.actions import wait as wait_on_customer

    _done(_change(wait_on_customer, number, as_, reply=reply), as_json,
          f"Ticket #{number} now waits on the customer" + (" (the reply was sent to them)." if reply else "."))


@app.command("sweep")
def sweep(
    once: bool = ONCE_OPTION,
    dry_run: bool = DRY_RUN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The lifecycle sweep, once: remind customers a ticket waits on, resolve the tickets they never answered
    and the FAQ answers nobody disputed, close the resolved tickets past close_after.

    The same sweep `tgesc worker cron` runs every lifecycle_sweep_every; this runs it now, for cron or a
    systemd timer, or to look (--dry-run). Prints one row per step taken (action: remind, resolve, close).

    Examples:

      tgesc ticket sweep --once --dry-run

      tgesc ticket sweep --once --json
    """
    from tgesc.cli.output import info
    from tgesc.cli.sweeping import sweep_once
    from tgesc.services.sweeps.lifecycle import sweep_lifecycle

    done = sweep_once(sweep_lifecycle, once=once, dry_run=dry_run, as_json=as_json,
                      columns=["ticket", "action", "reason", "due"])
    verb = "would take" if dry_run else "took"
    info(f"Lifecycle sweep{' (dry run)' if dry_run else ''}: {verb} {len(done)} step(s).")


@app.command("assign-sweep")
def assign_sweep(
    once: bool = ONCE_OPTION,
    dry_run: bool = DRY_RUN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The assignment sweep, once: in the tiers that assign by themselves, hand the open tickets of staff whose
    shift ended (or who are inactive, or no longer in the tier) back to the pool, then give the tickets nobody
    holds to staff on shift with room.

    The same sweep `tgesc worker cron` runs every assignment_sweep_every; this runs it now, for cron or a
    systemd timer, or to look (--dry-run). Prints one row per action (hand-back, assign), with the staff member
    the ticket went from or to and why (inactive, not_in_tier, off_shift; or the tier's mode).

    Examples:

      tgesc ticket assign-sweep --once --dry-run

      tgesc ticket assign-sweep --once --json
    """
    from tgesc.cli.output import info
    from tgesc.cli.sweeping import sweep_once
    from tgesc.services.sweeps.assignment import sweep_assignments

    done = sweep_once(sweep_assignments, once=once, dry_run=dry_run, as_json=as_json,
                      columns=["ticket", "action", "staff", "reason"], instants=())
    backs, given = (sum(1 for row in done if row["action"] == action) for action in ("hand-back", "assign"))
    verbs = ("would hand back", "would assign") if dry_run else ("handed back", "assigned")
    info(f"Assignment sweep{' (dry run)' if dry_run else ''}: {verbs[0]} {backs}, {verbs[1]} {given} ticket(s).")


@app.command("to-faq")
def to_faq(
    number: int = NUMBER,
    keywords: str = typer.Option(..., "--keywords", parser=free_text, metavar="TEXT",
                                 help="Comma-separated phrases that trigger the answer."),
    answer: str = typer.Option(..., "--answer", parser=free_text, metavar="TEXT",
                               help="The answer (Telegram HTML; $customer_name, $ticket)."),
    lang: str = typer.Option(None, "--lang", parser=language, metavar="LANG",
                             help="Language of phrases and answer (default: the customer's)."),
    name: str = typer.Option(None, "--name", help="FAQ entry name (default ticket_N); the template is faq_NAME."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Turn a resolved or closed case into an FAQ auto-answer (knowledge accumulation).

    Creates the custom template faq_NAME holding the answer and the FAQ entry [faq.NAME] with the
    phrases, validated like any configuration edit; `tgesc config export` shows them.

    Examples:

      tgesc ticket to-faq 1042 --name reset_2fa --keywords "reset 2fa,lost authenticator" \\
        --answer "Open Settings → Security → Reset 2FA; it takes 24 hours."

      tgesc ticket to-faq 1043 --lang zh --keywords "重置密码,忘记密码" --answer "请在登录页点击“忘记密码”。"
    """
    from tgesc.cli.output import info
    from tgesc.services.tickets.to_faq import to_faq as make_faq

    created = _change(make_faq, number, as_, keywords=keywords.split(","), answer=answer, name=name, language=lang)
    emit(created, as_json)
    info(f"Added FAQ entry {created['faq']} answered by template {created['template']} ({created['language']}).")
