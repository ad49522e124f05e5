"""Rates as people type them in settings: `25/1s`, `20/1m`, `1/1s` — N events per window.

Telegram's limits (messages per second in total, per chat, per group) and the customer flood limit are
rates. `parse_rate` turns the text into a `Rate`; `str(rate)` gives it back in canonical form.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from tgesc.domain.durations import DurationError, format_duration, parse_duration
from tgesc.domain.limits import COUNT, LimitError

_FORM = "expected a rate like 25/1s or 20/1m: a positive count, a slash and a duration"


class RateError(ValueError):
    """A rate text is not acceptable; the message says why and shows the accepted form."""


@dataclass(frozen=True)
class Rate:
    """At most `count` events in any `window_s` seconds."""

    count: int
    window_s: int

    @property
    def interval_s(self) -> float:
        """The even spacing that keeps to the rate: seconds between two events."""
        return self.window_s / self.count

    def __str__(self) -> str:
        return f"{self.count}/{format_duration(self.window_s)}"


def parse_rate(text: str) -> Rate:
    """The rate `text` denotes (`N/DURATION`), or RateError saying what is wrong."""
    count, slash, window = str(text).strip().partition("/")
    if not slash:
        raise RateError(f"{text!r} is not a rate: no '/'; {_FORM}")
    try:
        number = COUNT.parse(count.strip())
    except LimitError:
        raise RateError(f"{text!r} is not a rate: {count.strip()!r} is not a positive count; {_FORM}") from None
    try:
        seconds = parse_duration(window)
    except DurationError as error:
        raise RateError(f"{text!r} is not a rate: {error}") from None
    if seconds <= 0:
        raise RateError(f"{text!r} is not a rate: the window must be longer than 0s; {_FORM}")
    return Rate(number, seconds)


REMEMBERED = 128  # event ids a SlidingWindow keeps per key, to know an event handled again (more than a run holds)


class SlidingWindow:
    """Counts events per key over the last `rate.window_s` seconds: `hit` says when a key goes over the rate.

    Memory stays bounded: a key keeps at most `rate.count + 1` instants and `REMEMBERED` event ids, and idle keys
    are dropped as they are met again or when `forget_idle` is called."""

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self._events: dict[object, deque[float]] = {}
        self._seen: dict[object, dict[object, bool]] = {}  # key -> its latest events' ids -> the verdict given

    def hit(self, key: object, at: float, event: object = None) -> bool:
        """Record an event of `key` at `at` (seconds); whether `key` now has more than `rate.count` events
        within the window ending at `at`. An `event` id among the key's latest `REMEMBERED` is that event again
        (its handling is being retried, alone or with the events after it: a run of the bot's messages): it is not
        counted twice, and gets the same verdict."""
        seen = self._seen.get(key)
        if event is not None and seen is not None and event in seen:
            return seen[event]
        over = self._count(key, at)
        if event is not None:
            seen = self._seen.setdefault(key, {})
            seen[event] = over
            if len(seen) > REMEMBERED:
                del seen[next(iter(seen))]
        return over

    def _count(self, key: object, at: float) -> bool:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= at - self.rate.window_s:
            events.popleft()
        events.append(at)
        if len(events) > self.rate.count + 1:
            events.popleft()
        return len(events) > self.rate.count

    def forget_idle(self, now: float) -> None:
        """Drop keys with no event within the window ending at `now`."""
        for key in [k for k, events in self._events.items() if not events or events[-1] <= now - self.rate.window_s]:
            del self._events[key]
            self._seen.pop(key, None)
