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
- work-conserving: the next send is at the earliest instant at which any chat's first message may go
  (as far as its chat, its not_before and the postponements are concerned) and the global rate allows
  one more. A chat's first message becomes eligible when its not_before, its chat's postponement and
  the chat's rates allow, and not before it was added: the latest instant the schedule has been told
  (a `now` or a send's `at`) when `add` was called. So a busy chat, or one waiting on its own limits,
  never holds up the others;
- longest queue first: of the chats whose first message is eligible at that instant, the one with the
  most messages queued goes (ties: the one eligible earliest, then the oldest message). Each chat may
  send only `chat_rate` (1/s), so a chat with many messages can only be finished at that pace: served
  first come first served, the long queues (staff groups with a card per ticket) were all left for a
  tail in which a few chats send at 1/s each while the global rate goes unused (480 messages, 25/s:
  25 s instead of the 19 s the rates allow). Serving the longest queue first keeps them going from the
  start, so the short queues fill the remaining global capacity, and the last messages go at full rate;
- no starvation: a chat whose first message has been eligible for `max_wait_s` (default 30 s; counted
  from no earlier than the first instant the schedule was told) is overdue, and overdue chats go before
  all others, the one eligible earliest first (ties: the oldest message). Without that, a short queue
  could wait behind long ones for as long as enough of them (global_rate / chat_rate chats) stay longer
  than it, forever if messages keep coming for them. With it, a chat's first message eligible since `e`
  goes by `e + max_wait_s + ceil(n * chat_rate.count / global_rate.count) * global_rate.window_s` when
  `n` chats have messages (and nothing is postponed or sent outside the schedule meanwhile): from
  `e + max_wait_s` on, only chats eligible before it (or as early, with an older message) go first, each
  at most `chat_rate.count` times before its own window makes it eligible after it, and work-conserving
  means a send whenever the global rate allows one. A message waits past its eligibility only while the
  global rate is used up. Bursts shorter than `max_wait_s` are served purely longest queue first;
  `max_wait_s=0` is first come, first served.

Every operation is O(log n) amortised, for thousands of messages across hundreds of chats: chats with a
first message not yet eligible are in a heap keyed by when it becomes eligible; once it is (at the instant
`next_send` chooses), they move to two heaps of eligible chats, by priority (most queued) and by
eligibility (the oldest, to see whether it is overdue). Entries are invalidated lazily (a chat's version
is renewed whenever its key changes: on every add, send, removal and postponement). When `next_send` looked
ahead (it answered a later instant) and is then asked about an earlier one (say a message added since may
go at once), the chats moved for the later instant go back to the first heap: as many as were eligible
at that instant and not yet sent, normally the few waiting on their own rates.
"""

from __future__ import annotations

import heapq
import itertools
from bisect import insort
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import NamedTuple

from tgesc.domain.rates import Rate

NEVER = float("-inf")  # an instant before any other
MAX_WAIT_S = 30.0  # a chat eligible this long goes before the longer queues


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
    queue: deque[_Entry] = field(default_factory=deque)  # may still hold removed entries after the head
    count: int = 0  # messages pending for the chat (removed ones not counted)
    postponed_until: float = NEVER
    version: int = 0  # renewed whenever its heap keys change: older heap entries are stale

    def eligible_at(self, head: _Entry) -> float:
        """When the chat's first message may go, as far as the chat is concerned."""
        ready = max(head.added_at, head.item.not_before, self.postponed_until, self.chat_sends.next_allowed())
        return max(ready, self.group_sends.next_allowed()) if self.is_group else ready

    def idle_until(self) -> float:
        """Until when the chat's state still matters with nothing queued (its windows and postponement)."""
        return max(self.postponed_until, self.chat_sends.last() + self.chat_sends.rate.window_s,
                   self.group_sends.last() + self.group_sends.rate.window_s)


class _Key(NamedTuple):
    """A chat in the heaps: when its first message is eligible, that message's sequence, and which chat."""

    eligible_at: float
    sequence: int
    chat_id: int
    version: int


class SendSchedule:
    """Pending messages, and which one to send next and when (see the module docstring)."""

    def __init__(self, global_rate: Rate = Rate(25, 1), chat_rate: Rate = Rate(1, 1),
                 group_rate: Rate = Rate(20, 60), *, max_wait_s: float = MAX_WAIT_S) -> None:
        self.global_rate, self.chat_rate, self.group_rate = global_rate, chat_rate, group_rate
        self.max_wait_s = max_wait_s
        self._global_sends = _Recent(global_rate)
        self._postponed_all = NEVER
        self._chats: dict[int, _Chat] = {}
        self._pending: dict[Hashable, _Entry] = {}
        self._sequence = 0
        self._versions = itertools.count(1)  # across chats: a chat forgotten and met again never matches old entries
        self._latest = NEVER  # the latest instant passed in (a now, a send)
        self._epoch = NEVER  # the first instant passed in: waiting for max_wait_s counts from no earlier
        self._waiting: list[_Key] = []  # chats with something queued, not yet moved to the eligible heaps
        self._by_priority: list[tuple[int, _Key]] = []  # eligible chats: (-count, key), the most queued first
        self._by_age: list[_Key] = []  # the same chats, eligible earliest first
        self._moved_to = NEVER  # chats eligible by this instant were moved to the eligible heaps
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
        chat.count += 1
        self._reschedule(chat)

    def remove(self, item_id: Hashable) -> Pending | None:
        """Drop a pending message that will not be sent (failed, cancelled); the item, None if not pending."""
        entry = self._pending.pop(item_id, None)
        if entry is None:
            return None
        chat = self._chats[entry.item.chat_id]
        chat.count -= 1
        if chat.queue[0] is entry:
            chat.queue.popleft()
        self._reschedule(chat)
        return entry.item

    def next_send(self, now: float) -> Due | None:
        """The message to send next and the earliest instant (>= now) it may go; None when none is pending."""
        self._told(now)
        self._forget_idle_chats(now)
        tops = [key for key in (self._top(self._waiting), self._top(self._by_age)) if key is not None]
        if not tops:
            return None
        earliest = min(tops)
        at = max(now, earliest.eligible_at, self._global_sends.next_allowed(), self._postponed_all)
        self._move_eligible(at)
        oldest = self._top(self._by_age)
        if oldest is not None and max(oldest.eligible_at, self._epoch) + self.max_wait_s <= at:
            chosen = oldest  # overdue
        else:
            while not self._valid(self._by_priority[0][1]):
                heapq.heappop(self._by_priority)
            chosen = self._by_priority[0][1]
        return Due(self._chats[chosen.chat_id].queue[0].item, at)

    def sent(self, item_id: Hashable, at: float) -> Pending:
        """Record that pending message `item_id` was sent at `at` (it leaves the schedule); the item."""
        entry = self._pending.pop(item_id, None)
        if entry is None:
            raise KeyError(f"item {item_id!r} is not pending: report a send with sent() instead of remove(), "
                           "or record_send() for a message the schedule never had")
        item = entry.item
        chat = self._chats[item.chat_id]
        chat.count -= 1
        if chat.queue[0] is entry:
            chat.queue.popleft()
        self.record_send(item.chat_id, at, is_group=item.is_group)
        return item

    def record_send(self, chat_id: int, at: float, *, is_group: bool = False) -> None:
        """Count a send made outside the schedule (it uses the same rates)."""
        self._told(at)
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

    def _told(self, instant: float) -> None:
        self._latest = max(self._latest, instant)
        if self._epoch == NEVER:
            self._epoch = self._latest

    def _chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat(chat_id, _Recent(self.chat_rate), _Recent(self.group_rate))
        return chat

    def _valid(self, key: _Key) -> bool:
        chat = self._chats.get(key.chat_id)
        return chat is not None and chat.version == key.version

    def _top(self, heap: list[_Key]) -> _Key | None:
        """The heap's first entry that is not stale (stale ones before it are dropped); None when none."""
        while heap and not self._valid(heap[0]):
            heapq.heappop(heap)
        return heap[0] if heap else None

    def _move_eligible(self, at: float) -> None:
        """Make the eligible heaps hold exactly the chats whose first message is eligible at `at`."""
        if at < self._moved_to:  # an earlier next_send looked further ahead (e.g. an item added since may go now)
            self._waiting.extend(key for key in self._by_age if self._valid(key))
            heapq.heapify(self._waiting)
            self._by_age, self._by_priority = [], []
        while (key := self._top(self._waiting)) is not None and key.eligible_at <= at:
            heapq.heappop(self._waiting)
            heapq.heappush(self._by_age, key)
            heapq.heappush(self._by_priority, (-self._chats[key.chat_id].count, key))
        self._moved_to = at

    def _reschedule(self, chat: _Chat) -> None:
        """Push the chat's new heap key (older entries become stale), or note it idle."""
        while chat.queue and self._pending.get(chat.queue[0].item.item_id) is not chat.queue[0]:
            chat.queue.popleft()  # removed (or sent) earlier, while not at the head
        chat.version = next(self._versions)
        if chat.queue:
            head = chat.queue[0]
            heapq.heappush(self._waiting, _Key(chat.eligible_at(head), head.sequence, chat.chat_id, chat.version))
        else:
            heapq.heappush(self._idle, (chat.idle_until(), chat.chat_id))
        if len(self._waiting) + len(self._by_age) + len(self._by_priority) > 4 * len(self._chats) + 64:
            self._compact()

    def _compact(self) -> None:
        """Drop stale heap entries (they pile up as keys change, as every add and send does)."""
        self._waiting = [key for key in self._waiting if self._valid(key)]
        self._by_age = [key for key in self._by_age if self._valid(key)]
        self._by_priority = [entry for entry in self._by_priority if self._valid(entry[1])]
        for heap in (self._waiting, self._by_age, self._by_priority):
            heapq.heapify(heap)

    def _forget_idle_chats(self, now: float) -> None:
        """Forget chats with nothing queued whose windows and postponements are over."""
        while self._idle and self._idle[0][0] <= now:
            _, chat_id = heapq.heappop(self._idle)
            chat = self._chats.get(chat_id)
            if chat is not None and not chat.queue and chat.idle_until() <= now:
                del self._chats[chat_id]
