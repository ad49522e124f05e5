"""Who may work a ticket: the staff of its tier and admins, the same rule in Telegram and on the CLI.

In Telegram the rule is checked on the staff chat a message is written in; on the CLI `--as HANDLE` names
the staff member acting, who must be active and may work the ticket's tier (or, for a new ticket, the front
line). Without `--as` the operator of the machine acts, unchecked, recorded under the configured actor (`cli`
by default). A ticket moved to a tier its assignee does not work in loses its assignee (`unassign_if_elsewhere`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import peewee

from tgesc.db import write_transaction
from tgesc.domain.errors import NotFound, NotPermitted
from tgesc.models import Staff, Ticket, Tier, database
from tgesc.services.config.current import current
from tgesc.services.tickets.store import event, find, staff_by_handle

Result = TypeVar("Result")


def may_work(staff: Staff | None, tier: Tier) -> bool:
    """Whether `staff` may work tickets in `tier`: its staff, and admins (from the configuration in force)."""
    if staff is None:
        return False
    return staff.role == "admin" or (staff.id, tier.id) in current(database).staff_tiers


def active_staff(db: peewee.Database, handle: str) -> Staff:
    """The staff member `--as` names: NotFound when there is none, NotPermitted when they are not active."""
    staff = staff_by_handle(db, handle)
    if staff is None:
        raise NotFound(f"--as {handle}: there is no staff member {handle!r}; `tgesc staff list` shows them")
    if not staff.active:
        raise NotPermitted(f"--as {handle}: {handle} is not an active staff member; an admin can reactivate them "
                           f"with `tgesc staff set {handle} --active`")
    return staff


def acting(db: peewee.Database, handle: str | None, fallback: str, tier: Tier | None,
           what: str = "this ticket") -> str:
    """The actor a CLI change is recorded as: `handle` once checked (active, and staff of `tier` or an admin),
    else `fallback` (the operator, unchecked)."""
    if handle is None:
        return fallback
    staff = active_staff(db, handle)
    if tier is not None and not may_work(staff, tier):
        raise NotPermitted(f"{handle} is not staff of {tier.code}; only {tier.code} staff and admins can work "
                           f"{what} (an admin can add {handle} with `tgesc staff set {handle} --add-tier {tier.code}`)")
    return staff.handle


def acting_at_front_line(db: peewee.Database, handle: str | None, fallback: str) -> str:
    """The actor of a change that opens a ticket (`tgesc ticket open`): as `acting`, on the front line."""
    return acting(db, handle, fallback, current(db).front_line, "new tickets, which start at the front line")


def acting_on(db: peewee.Database, number: int, change: Callable[..., Result], *, as_handle: str | None,
              fallback: str, now: datetime, **kwargs) -> Result:
    """`change(db, number, actor=..., now=now, **kwargs)` (a ticket action) done as the actor `acting` checks on
    the ticket's tier, in one write transaction: nothing changes when the actor is refused."""
    with write_transaction(db):
        actor = acting(db, as_handle, fallback, find(number).tier, f"ticket #{number}")
        return change(db, number, actor=actor, now=now, **kwargs)


def unassign_if_elsewhere(ticket: Ticket, tier: Tier, actor: str, now: datetime) -> None:
    """After a move to `tier`: an assignee who does not work there is taken off the ticket (audited)."""
    if ticket.assignee_id is None:
        return
    assignee = ticket.assignee
    if may_work(assignee, tier):
        return
    ticket.assignee = None
    event(ticket, "ticket.assigned", actor, now, to=None, **{"from": assignee.handle},
          reason=f"{assignee.handle} does not work in {tier.code}")
