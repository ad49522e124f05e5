"""The order and the instants at which the bot sends its pending messages, within Telegram's rates.

The bot's delivery loop asks `SendSchedule.next_send(now)` which message goes next and when, sends it at
that instant, and reports it with `sent(item_id, at)`; a failed or cancelled message is `remove`d, a flood
wait becomes `postpone(chat_id, until)` (one chat) or `postpone_all(until)` (every chat). Time is seconds
as a float, always passed in: the schedule never reads a clock and never sleeps.

The rules:
- per chat, messages go in the order they were added (a later one never before an earlier one);
- in any window of `window_s` seconds at most `count` sends: in total (`global_rate`), to one chat
  (`chat_rate`) and, in addition, to one group chat (`group_rate`). Exactly: a send at `t` is allowed
  when `t >= the count-th most recent send (of that scope) + window_s`;
- a message never goes before its `not_before`, nor before a postponement of its chat or of all chats;
- work-conserving and fair: of the chats whose first message may go, the one that became eligible
  earliest goes first (ties: the oldest message), so a busy chat, or one waiting on its own limits,
  never holds up the others. A message becomes eligible when its not_before, its chat's postponement
  and the chat's rates allow, and not before it was added: the latest instant the schedule has been
  told (a `now` or a send's `at`) when `add` was called. Among ready chats that is first come, first
  served.

Every operation is O(log n) amortised (a heap of chats keyed by when their first message may go, entries
invalidated lazily), for thousands of messages across hundreds of chats.
"""

from __future__ import annotations

import heapq
from bisect import insort
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import NamedTuple

from tgesc.domain.rates import Rate

NEVER = float("-inf")  # an instant before any other


@dataclass(frozen=True)
class Pending:
    """A message waiting to be sent: its id (an outbox row's), its chat, whether the chat is a group,
    and the earliest instant it may go."""

    item_id: Hashable
    chat_id: int
    is_group: bool = False
    not_before: float = NEVER


class Due(NamedTuple):
    """The message to send next and the earliest instant it may go."""

    item: Pending
    at: float


class _Entry(NamedTuple):
    sequence: int  # the order of adding, across chats
    item: Pending
    added_at: float  # the latest instant the schedule knew of when the item was added


class _Recent:
    """The latest sends of one scope (all chats, one chat, one group), as many as its rate counts."""

    __slots__ = ("rate", "times")

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self.times: list[float] = []

    def record(self, at: float) -> None:
        insort(self.times, at)  # sends are normally reported in order: an append
        if len(self.times) > self.rate.count:
            del self.times[0]

    def next_allowed(self) -> float:
        """The earliest instant one more send keeps to the rate."""
        if len(self.times) < self.rate.count:
            return NEVER
        return self.times[0] + self.rate.window_s

    def last(self) -> float:
        return self.times[-1] if self.times else NEVER


@dataclass
class _Chat:
    """One chat's queue (in the order added), its recent sends and postponement."""

    chat_id: int
    chat_sends: _Recent
    group_sends: _Recent
    is_group: bool = False
    queue: deque[_Entry] = field(default_factory=deque)
    postponed_until: float = NEVER
    version: int = 0  # bumped whenever its heap key changes: older heap entries are stale

    def eligible_at(self, head: _Entry) -> float:
        """When the chat's first message may go, as far as the chat is concerned."""
        ready = max(head.added_at, head.item.not_before, self.postponed_until, self.chat_sends.next_allowed())
        return max(ready, self.group_sends.next_allowed()) if self.is_group else ready

    def idle_until(self) -> float:
        """Until when the chat's state still matters with nothing queued (its windows and postponement)."""
        return max(self.postponed_until, self.chat_sends.last() + self.chat_sends.rate.window_s,
                   self.group_sends.last() + self.group_sends.rate.window_s)


class SendSchedule:
    """Pending messages, and which one to send next and when (see the module docstring)."""

    def __init__(self, global_rate: Rate = Rate(25, 1), chat_rate: Rate = Rate(1, 1),
                 group_rate: Rate = Rate(20, 60)) -> None:
        self.global_rate, self.chat_rate, self.group_rate = global_rate, chat_rate, group_rate
        self._global_sends = _Recent(global_rate)
        self._postponed_all = NEVER
        self._chats: dict[int, _Chat] = {}
        self._pending: dict[Hashable, _Entry] = {}
        self._sequence = 0
        self._latest = NEVER  # the latest instant passed in (a now, a send)
        self._ready: list[tuple[float, int, int, int]] = []  # (eligible at, head sequence, chat id, version)
        self._idle: list[tuple[float, int]] = []  # (forgettable after, chat id) for chats with nothing queued

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, item_id: Hashable) -> bool:
        return item_id in self._pending

    def add(self, item: Pending) -> None:
        """Queue `item` after every message already queued for its chat. ValueError when its id is pending."""
        if item.item_id in self._pending:
            raise ValueError(f"item {item.item_id!r} is already pending")
        self._sequence += 1
        entry = _Entry(self._sequence, item, self._latest)
        self._pending[item.item_id] = entry
        chat = self._chat(item.chat_id)
        chat.is_group = item.is_group
        chat.queue.append(entry)
        if len(chat.queue) == 1:
            self._reschedule(chat)

    def remove(self, item_id: Hashable) -> Pending | None:
        """Drop a pending message that will not be sent (failed, cancelled); the item, None if not pending."""
        entry = self._pending.pop(item_id, None)
        if entry is None:
            return None
        chat = self._chats[entry.item.chat_id]
        if chat.queue[0] is entry:
            chat.queue.popleft()
            self._reschedule(chat)
        return entry.item

    def next_send(self, now: float) -> Due | None:
        """The message to send next and the earliest instant (>= now) it may go; None when none is pending."""
        self._latest = max(self._latest, now)
        self._forget_idle_chats(now)
        while self._ready:
            eligible_at, _, chat_id, version = self._ready[0]
            chat = self._chats.get(chat_id)
            if chat is not None and chat.version == version:
                head = chat.queue[0].item
                return Due(head, max(now, eligible_at, self._global_sends.next_allowed(), self._postponed_all))
            heapq.heappop(self._ready)
        return None

    def sent(self, item_id: Hashable, at: float) -> Pending:
        """Record that pending message `item_id` was sent at `at` (it leaves the schedule); the item."""
        entry = self._pending.pop(item_id, None)
        if entry is None:
            raise KeyError(f"item {item_id!r} is not pending: report a send with sent() instead of remove(), "
                           "or record_send() for a message the schedule never had")
        item = entry.item
        chat = self._chats[item.chat_id]
        if chat.queue[0] is entry:
            chat.queue.popleft()
        self.record_send(item.chat_id, at, is_group=item.is_group)
        return item

    def record_send(self, chat_id: int, at: float, *, is_group: bool = False) -> None:
        """Count a send made outside the schedule (it uses the same rates)."""
        self._latest = max(self._latest, at)
        self._global_sends.record(at)
        chat = self._chat(chat_id)
        chat.chat_sends.record(at)
        if is_group or chat.is_group:
            chat.group_sends.record(at)
        self._reschedule(chat)

    def postpone(self, chat_id: int, until: float) -> None:
        """Send nothing to `chat_id` before `until` (a flood wait for that chat); earlier postponements
        are never shortened."""
        chat = self._chat(chat_id)
        if until > chat.postponed_until:
            chat.postponed_until = until
            self._reschedule(chat)

    def postpone_all(self, until: float) -> None:
        """Send nothing at all before `until` (a flood wait for the whole bot)."""
        self._postponed_all = max(self._postponed_all, until)

    # --- internals ---------------------------------------------------------------------------------------

    def _chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat(chat_id, _Recent(self.chat_rate), _Recent(self.group_rate))
        return chat

    def _reschedule(self, chat: _Chat) -> None:
        """Push the chat's new heap key (older entries become stale), or note it idle."""
        while chat.queue and self._pending.get(chat.queue[0].item.item_id) is not chat.queue[0]:
            chat.queue.popleft()  # removed (or sent) earlier, while not at the head
        chat.version += 1
        if chat.queue:
            head = chat.queue[0]
            heapq.heappush(self._ready, (chat.eligible_at(head), head.sequence, chat.chat_id, chat.version))
        else:
            heapq.heappush(self._idle, (chat.idle_until(), chat.chat_id))
        if len(self._ready) > 2 * len(self._chats) + 64:
            self._compact()

    def _compact(self) -> None:
        """Drop stale heap entries (they pile up when keys move later, as sends do)."""
        self._ready = [e for e in self._ready if (c := self._chats.get(e[2])) is not None and c.version == e[3]]
        heapq.heapify(self._ready)

    def _forget_idle_chats(self, now: float) -> None:
        """Forget chats with nothing queued whose windows and postponements are over."""
        while self._idle and self._idle[0][0] <= now:
            _, chat_id = heapq.heappop(self._idle)
            chat = self._chats.get(chat_id)
            if chat is not None and not chat.queue and chat.idle_until() <= now:
                del self._chats[chat_id]
