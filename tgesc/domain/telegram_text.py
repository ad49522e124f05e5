"""Fitting outbound texts to Telegram's limits: long texts split into messages, long captions split into a
caption and follow-up messages, and callback data checked against its 64 bytes. kurigram checks none of them.

Our texts are Telegram-HTML: tags (b, i, u, s, code, pre, a href, blockquote, tg-spoiler ...) and entities
(&amp; &lt; &gt; &quot; &#NN;). A text over the limit is split where a reader would expect it:

- at a paragraph boundary (whitespace holding two or more newlines), else at a line boundary (one
  newline), else at a space; a boundary in the second half of the room left is preferred in that order,
  then any boundary (paragraph, line, space) anywhere, and only then a hard cut, which avoids splitting
  a character from the accents, joiners and variation selectors that follow it;
- never inside a tag or an entity; tags open at a cut are closed at the end of the chunk and reopened,
  with their attributes, at the start of the next;
- the whitespace at a boundary (and tags standing next to it) is consumed by the cut, as is whitespace
  at the very start and end of an over-long text: Telegram trims messages anyway. Nothing else visible
  is lost or reordered.

Length is measured conservatively: the whole markup, tags and entities as written, in UTF-16 code units
(an emoji outside the basic plane counts 2). That is never less than what Telegram counts.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, repeat

from tgesc.domain.telegram import CALLBACK_DATA_LIMIT, CAPTION_LIMIT, TEXT_LIMIT, Button

_ATTRIBUTE = r"""\s+[^\s=<>/"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s<>"']+))?"""
_TOKEN = re.compile(
    rf"(?P<tag><(?P<close>/?)(?P<name>[A-Za-z][A-Za-z0-9-]*)(?:{_ATTRIBUTE})*\s*(?P<void>/?)>)"
    r"|(?P<entity>&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);)")

CHAR, ENTITY, OPEN, CLOSE, VOID = range(5)  # the kinds of atom a text is made of
_NON_BREAKING_SPACES = frozenset("\u00a0\u2007\u202f\u2060\ufeff")
_ZERO_WIDTH_JOINER = "\u200d"
_GRAPHEME_BACKOFF = 16  # how far a hard cut moves back to keep a character with its accents


class CallbackDataError(ValueError):
    """Callback data Telegram would refuse: empty, or over 64 bytes."""


class CallbackDataTooLong(CallbackDataError):
    """Callback data over 64 bytes in UTF-8."""


class MarkupTooLong(ValueError):
    """The tags open at a cut, closed and reopened, leave no room for text within the limit."""


def telegram_length(text: str) -> int:
    """The conservative length of `text` against Telegram's limits: UTF-16 code units, markup included."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """`text` as messages of at most `limit` (see the module docstring); unchanged as one message when it
    fits, no messages at all when it is empty."""
    return list(_split(text, repeat(_positive(limit))))


def split_caption(text: str, limit: int = CAPTION_LIMIT, *, text_limit: int = TEXT_LIMIT) -> tuple[str, list[str]]:
    """The caption of a media message and the follow-up text messages holding the rest (none when `text`
    fits in `limit`)."""
    chunks = list(_split(text, chain([_positive(limit)], repeat(_positive(text_limit)))))
    return (chunks[0], chunks[1:]) if chunks else ("", [])


def check_callback_data(data: str) -> str:
    """`data`, when Telegram accepts it as an inline button's callback data (1 to 64 bytes of UTF-8)."""
    size = len(data.encode("utf-8"))
    if size > CALLBACK_DATA_LIMIT:
        raise CallbackDataTooLong(f"callback data {data[:24]!r}... is {size} bytes in UTF-8; "
                                  f"Telegram accepts at most {CALLBACK_DATA_LIMIT}")
    if size == 0:
        raise CallbackDataError("callback data must not be empty")
    return data


def check_buttons(rows: list[list[Button]]) -> list[list[Button]]:
    """`rows` of inline buttons, once every button's callback data is checked."""
    for row in rows:
        for button in row:
            check_callback_data(button.data)
    return rows


def _positive(limit: int) -> int:
    if limit < 1:
        raise ValueError(f"a length limit must be 1 or more, not {limit}")
    return limit


# --- the text as atoms: characters, entities and tags ------------------------------------------------------


@dataclass(frozen=True)
class _Open:
    """One tag open at a point, with those open around it (`outer`); the lengths are of the whole stack."""

    name: str
    raw: str
    outer: _Open | None
    reopen_length: int
    close_length: int


def _push(stack: _Open | None, name: str, raw: str) -> _Open:
    reopen = telegram_length(raw) + (stack.reopen_length if stack else 0)
    close = len(name) + 3 + (stack.close_length if stack else 0)
    return _Open(name, raw, stack, reopen, close)


def _pop(stack: _Open | None, name: str) -> _Open | None:
    """The stack once `</name>` closed the innermost `name` (and any left open inside it); unchanged when
    no `name` is open (a stray closing tag)."""
    node = stack
    while node is not None and node.name != name:
        node = node.outer
    return node.outer if node is not None else stack


def _opening(stack: _Open | None) -> str:
    tags: list[str] = []
    while stack is not None:
        tags.append(stack.raw)
        stack = stack.outer
    return "".join(reversed(tags))


def _closing(stack: _Open | None) -> str:
    tags: list[str] = []
    while stack is not None:
        tags.append(f"</{stack.name}>")
        stack = stack.outer
    return "".join(tags)


def _tokens(text: str) -> Iterator[tuple[int, str, str]]:
    """(kind, raw text, tag name) for each atom of `text`, in order."""
    position = 0
    for match in _TOKEN.finditer(text):
        for char in text[position:match.start()]:
            yield CHAR, char, ""
        position = match.end()
        if match["entity"]:
            yield ENTITY, match["entity"], ""
        elif match["close"]:
            yield CLOSE, match["tag"], match["name"].lower()
        else:
            yield (VOID if match["void"] else OPEN), match["tag"], match["name"].lower()
    for char in text[position:]:
        yield CHAR, char, ""


@dataclass(frozen=True)
class _Run:
    """Breakable whitespace (and the tags next to it) from atom `start` to `end`: a place to cut."""

    start: int
    end: int
    newlines: int


class _Atoms:
    """A text taken apart, with what a cut needs in O(1): lengths, open tags and visible atoms before each
    atom, and the whitespace runs one may cut at."""

    def __init__(self, text: str) -> None:
        self.kinds: list[int] = []
        self.raws: list[str] = []
        self.stacks: list[_Open | None] = [None]  # the tags open before atom i
        self.lengths = [0]  # telegram_length of atoms [0, i)
        self.visible = [0]  # how many atoms in [0, i) are visible (characters and entities)
        for kind, raw, name in _tokens(text):
            stack = self.stacks[-1]
            if kind == OPEN:
                stack = _push(stack, name, raw)
            elif kind == CLOSE:
                stack = _pop(stack, name)
            self.kinds.append(kind)
            self.raws.append(raw)
            self.stacks.append(stack)
            self.lengths.append(self.lengths[-1] + telegram_length(raw))
            self.visible.append(self.visible[-1] + (kind in (CHAR, ENTITY)))
        self.runs = self._find_runs()
        self.run_starts = [run.start for run in self.runs]

    def __len__(self) -> int:
        return len(self.kinds)

    def breakable(self, i: int) -> bool:
        raw = self.raws[i]
        return self.kinds[i] == CHAR and raw.isspace() and raw not in _NON_BREAKING_SPACES

    def _find_runs(self) -> list[_Run]:
        runs: list[_Run] = []
        i, n = 0, len(self)
        while i < n:
            if not self.breakable(i):
                i += 1
                continue
            start = i
            while start > 0 and self.kinds[start - 1] in (OPEN, CLOSE, VOID):
                start -= 1
            end, newlines = i, 0
            while end < n and (self.breakable(end) or self.kinds[end] in (OPEN, CLOSE, VOID)):
                newlines += self.raws[end] == "\n"
                end += 1
            runs.append(_Run(start, end, newlines))
            i = end
        return runs

    def cost(self, start: int, end: int) -> int:
        """The length of the chunk of atoms [start, end), with the tags open around it reopened and closed."""
        before, after = self.stacks[start], self.stacks[end]
        return ((before.reopen_length if before else 0) + self.lengths[end] - self.lengths[start]
                + (after.close_length if after else 0))

    def chunk(self, start: int, end: int) -> str:
        return _opening(self.stacks[start]) + "".join(self.raws[start:end]) + _closing(self.stacks[end])

    def has_visible(self, start: int, end: int) -> bool:
        return self.visible[end] > self.visible[start]

    def run_at(self, i: int) -> _Run | None:
        index = bisect_left(self.run_starts, i)
        return self.runs[index] if index < len(self.runs) and self.runs[index].start == i else None


# --- choosing the cuts ----------------------------------------------------------------------------------


def _split(text: str, limits: Iterator[int]) -> Iterator[str]:
    if not text:
        return
    limit = next(limits)
    if telegram_length(text) <= limit:
        yield text
        return
    atoms = _Atoms(text)
    start = 0
    while True:
        run = atoms.run_at(start)
        if run is not None:  # whitespace opening an over-long text is consumed
            start = run.end
        if not atoms.has_visible(start, len(atoms)):
            return
        if atoms.cost(start, len(atoms)) <= limit:
            yield atoms.chunk(start, _end_without_trailing_whitespace(atoms, start))
            return
        end, start_next = _cut(atoms, start, limit)
        yield atoms.chunk(start, end)
        start, limit = start_next, next(limits)


def _end_without_trailing_whitespace(atoms: _Atoms, start: int) -> int:
    last = atoms.runs[-1] if atoms.runs else None
    return last.start if last is not None and last.end == len(atoms) and last.start > start else len(atoms)


def _cut(atoms: _Atoms, start: int, limit: int) -> tuple[int, int]:
    """Where the chunk starting at atom `start` ends, and where the next one starts."""
    room = _room(atoms, start, limit)
    run = _boundary(atoms, start, room, limit)
    if run is not None:
        return run.start, run.end
    end = _hard_cut(atoms, start, room, limit)
    return end, end


def _room(atoms: _Atoms, start: int, limit: int) -> int:
    """The furthest end of a chunk from `start` within `limit`, tags reopened and closed (`start` when the
    tags alone leave no room)."""
    stack = atoms.stacks[start]
    reopen = stack.reopen_length if stack else 0
    room = bisect_right(atoms.lengths, atoms.lengths[start] + limit - reopen) - 1
    while room > start and atoms.cost(start, room) > limit:
        room -= 1
    return max(room, start)


def _boundary(atoms: _Atoms, start: int, room: int, limit: int) -> _Run | None:
    """The whitespace run to cut at: the latest paragraph, line or space boundary in the second half of the
    room (in that order of preference), else the latest of any of them; None when none fits."""
    latest: dict[int, _Run] = {}  # by kind: 2 paragraph, 1 line, 0 space
    first, last = bisect_right(atoms.run_starts, start), bisect_right(atoms.run_starts, room)
    for run in reversed(atoms.runs[first:last]):
        kind = min(run.newlines, 2)
        if kind not in latest and atoms.cost(start, run.start) <= limit:
            latest[kind] = run
            if kind == 2:
                break
    middle = start + (room - start) // 2
    for kind in (2, 1, 0):
        if kind in latest and latest[kind].start >= middle:
            return latest[kind]
    return next((latest[kind] for kind in (2, 1, 0) if kind in latest), None)


def _hard_cut(atoms: _Atoms, start: int, room: int, limit: int) -> int:
    """The latest atom boundary within the limit, moved back off accents and joiners and before tags that
    open there, and on past tags that close there."""
    end = room
    while end > start and not atoms.has_visible(start, end):
        end -= 1
    if end <= start:
        raise MarkupTooLong(f"no text fits in {limit} characters after the tags open at the cut "
                            f"({_opening(atoms.stacks[start])}) are reopened and closed")
    end = _keep_graphemes(atoms, start, end, limit)
    while atoms.kinds[end - 1] == OPEN and atoms.has_visible(start, end - 1):
        end -= 1
    while end < len(atoms) and atoms.kinds[end] == CLOSE and atoms.cost(start, end + 1) <= limit:
        end += 1
    return end


def _keep_graphemes(atoms: _Atoms, start: int, end: int, limit: int) -> int:
    for candidate in range(end, max(start, end - _GRAPHEME_BACKOFF), -1):
        if (_may_break_before(atoms, candidate) and atoms.has_visible(start, candidate)
                and atoms.cost(start, candidate) <= limit):
            return candidate
    return end


def _may_break_before(atoms: _Atoms, i: int) -> bool:
    if i >= len(atoms):
        return True
    if atoms.kinds[i - 1] == CHAR and atoms.raws[i - 1] == _ZERO_WIDTH_JOINER:
        return False
    return not (atoms.kinds[i] == CHAR and _extends_previous(atoms.raws[i]))


def _extends_previous(char: str) -> bool:
    """Whether `char` belongs to the character before it: an accent, a joiner, a variation selector, a
    skin tone or an emoji tag."""
    code = ord(char)
    return (unicodedata.category(char) in ("Mn", "Me", "Mc") or char == _ZERO_WIDTH_JOINER
            or 0xFE00 <= code <= 0xFE0F or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F)
