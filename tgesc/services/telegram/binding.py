"""/bind TIER: an admin makes the group it is typed in a tier's staff chat, from Telegram itself.

An admin adds the bot to a group and sends `/bind L2` there. The tier's staff chat and forum flag are set through
the service `tgesc tier set L2 --chat ID [--forum]` uses (config.edits: the whole configuration validated, the
change audited as `config.change` with the admin's handle as actor). The answer is an outbox row of kind `rights`
(payload: the tier, whether the group is a forum, who asked): its text says what was done, and the delivery adds,
when it sends it, which of the rights the desk needs there the bot has (post messages; manage topics, in a forum;
pin messages), asked of Telegram then, since a handler may not call Telegram (telegram.delivery).

Refused, with the reason and nothing changed: a private chat (or a channel); anybody but an active admin (the
attempt is audited as `staff.refused`); a tier that does not exist (the tiers are listed); a group that is another
tier's staff chat already. That group is not moved: the tier it serves would be left with no staff chat, and its
open tickets' threads stay there; the answer says how to free it (`tgesc tier set L1 --chat ''`) first. A /bind of
the tier's own chat binds it again (the forum flag follows the group) and checks the rights again; a /bind that
moves a tier from another chat says which one it was (tickets there keep their threads there).

Runs on the bot's connection thread, in a write transaction. Safe twice: the answer's dedupe key
(`bind-CHAT-MESSAGE`) is looked up first, so a catch-up's replay of the same message changes and answers nothing.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

import peewee

from tgesc.db import write_transaction
from tgesc.domain.errors import DomainError, NotFound, NotPermitted, TgescError, UsageError
from tgesc.domain.telegram import IncomingMessage
from tgesc.models import Staff, Tier, database
from tgesc.services.config.current import current
from tgesc.services.config.edits import Edits, edit_entry
from tgesc.services.outbox import rows as outbox
from tgesc.services.outbox import store as outbox_store
from tgesc.services.telegram.staff import staff_member, staff_tier
from tgesc.services.tickets.store import event


def on_bind(db: peewee.Database, message: IncomingMessage, code: str, now: datetime) -> None:
    """`/bind CODE` typed in `message`'s chat: bound, or refused (see the module's description); answered once."""
    with write_transaction(db):
        if outbox_store.written(db, _key(message)):
            return  # handled before: a catch-up's replay
        try:
            _in_a_group(message)
            staff, tier = _admin(message, now), _tier(code)
            text = _bound(db, tier, staff, message, now)
        except TgescError as refusal:
            _answer(message, refusal.render(), now)
            return
        payload = {"tier": tier.code, "forum": message.is_forum, "asked_by": message.sender.id}
        _answer(message, text, now, kind="rights", payload=payload)


def refuse(db: peewee.Database, message: IncomingMessage, reason: str, now: datetime) -> None:
    """Answer a /bind that cannot be read (`reason`: what is wrong, and the usage), once."""
    with write_transaction(db):
        _answer(message, reason, now)


def _in_a_group(message: IncomingMessage) -> None:
    """UsageError unless `message` was written in a group (a private chat, a channel)."""
    if message.chat_type not in ("group", "supergroup"):
        raise UsageError("/bind works in a group: add the bot to the group that is to be a tier's staff chat, and "
                         "send /bind TIER there (an admin)")


def _admin(message: IncomingMessage, now: datetime) -> Staff:
    """The active admin who typed /bind; NotPermitted (audited as `staff.refused`) for anybody else."""
    staff = staff_member(message.sender.id)
    if staff is not None and staff.role == "admin":
        return staff
    who = staff.handle if staff else f"telegram:{message.sender.id}"
    event(None, "staff.refused", who, now, chat_id=message.chat_id, message_id=message.message_id,
          text=message.text[:200])
    what = f"{who} is {_a(staff.role)}" if staff else f"you (user id {message.sender.id}) are not registered as staff"
    raise NotPermitted(f"Only admins can bind a group to a tier, and {what}. Nothing was changed: an admin can send "
                       f"/bind here, or run `tgesc tier set TIER --chat {message.chat_id}"
                       f"{' --forum' if message.is_forum else ''}`.")


def _tier(code: str) -> Tier:
    """The tier `code` names (in any case); NotFound listing the tiers."""
    tiers = sorted(current(database).tier_codes.values(), key=lambda tier: tier.level)
    found = next((tier for tier in tiers if tier.code.casefold() == code.casefold()), None)
    if found is None:
        known = ", ".join(tier.code for tier in tiers) or "none yet"
        raise NotFound(f"There is no tier {code}; the tiers are {known}. Nothing was changed.")
    return found


def _bound(db: peewee.Database, tier: Tier, staff: Staff, message: IncomingMessage, now: datetime) -> str:
    """Make the chat `tier`'s staff chat, as `staff`, through the service of `tgesc tier set`; what was done."""
    _not_serving_another(tier, message)
    before, was_forum, forum = tier.staff_chat_id, tier.is_forum, message.is_forum
    edit_entry(db, "tiers", tier.code, Edits(fields={"staff_chat": message.chat_id, "forum": forum}),
               actor=staff.handle, now=now)
    kind = "forum" if forum else "group"
    if before == message.chat_id:
        changed = f" It is now recorded as {'a forum' if forum else 'no forum'}." if was_forum != forum else ""
        return f"This {kind} already is {tier.code}'s staff chat.{changed}"
    work = ("each ticket that reaches it gets its own topic here" if forum else
            "each ticket that reaches it is posted here as a card; reply to the card to work the ticket")
    moved = f" (It was chat {before} until now: tickets already there keep their threads there.)" if before else ""
    return f"This {kind} is now {tier.code}'s staff chat: {work}.{moved}"


def _not_serving_another(tier: Tier, message: IncomingMessage) -> None:
    """DomainError when the chat is another tier's staff chat (it is not moved: see the module's description)."""
    serving = staff_tier(message.chat_id)
    if serving is None or serving.id == tier.id:
        return
    raise DomainError(
        f"This {'forum' if message.is_forum else 'group'} is {serving.code}'s staff chat already, so it was not made "
        f"{tier.code}'s: a group serves one tier. To move it, free it first with `tgesc tier set {serving.code} "
        f"--chat ''` ({serving.code} then has no staff chat until it gets another), then send /bind {tier.code} here "
        "again.")


def _answer(message: IncomingMessage, text: str, now: datetime, *, kind: str = "message",
            payload: dict[str, Any] | None = None) -> None:
    outbox.queue(None, message.chat_id, html.escape(text), now=now, kind=kind, thread_id=message.thread_id,
                 reply_to=message.message_id, payload=payload, dedupe_key=_key(message))


def _key(message: IncomingMessage) -> str:
    return f"bind-{message.chat_id}-{message.message_id}"


def _a(role: str) -> str:
    return f"{'an' if role[0] in 'aeiou' else 'a'} {role}"
