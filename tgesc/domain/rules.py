"""Trigger rules and FAQ matching: what one customer message (or the passing of time) sets off.

Rules come from canonical `[rules.NAME]` entries (see config_schema.RULES) and are evaluated in order
(position, then name). A disabled rule, or one whose name is in the ticket's `fired` set, never fires:
each rule fires at most once per ticket. Each hit says exactly why (`Hit.why`, for the audit).

Kinds
    keyword           one of the rule's phrases occurs in the message.
    repeated-request  consecutive customer messages asking for the same thing. The ticket stores ONE
                      counter (`manager_requests_in_row`) shared by all repeated-request rules: a
                      message matching the phrases of any enabled repeated-request rule adds one, any
                      other customer message resets it to 0. A rule fires when the counter has reached
                      its `count` and this message matches its own phrases. The new counter is in the
                      Evaluation, for the caller to store.
    emotion           the message's assessment (emotion.assess) is one of the rule's emotions.
    urgent-reply      after an escalation notice told the customer to reply "urgent", and only once
                      per ticket: the message is essentially that word on its own (see `urgent_word`).
    unresolved-for    never fires from a message: `unresolved_hits` fires it once `after` has passed
                      since the ticket was opened, in real (wall-clock) time, not business hours,
                      and only while the ticket is below the tier it escalates to (at or above it,
                      the rule has nothing to do); `unresolved_check_at` is the instant to store
                      for the sweep.

Phrase matching (`phrase_match`) uses emotion.fold / emotion.contains: case-insensitive (casefold,
NFKC, ё = е), CJK phrases anywhere, Latin/Cyrillic phrases at a word start as a prefix ("refund"
matches "Refunds?" but not "prefund"; "жалоб" matches "жалобу").
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from tgesc.domain.durations import format_duration, parse_duration
from tgesc.domain.emotion import Assessment, assess, contains, fold, is_cjk
from tgesc.domain.vocabulary import rank

Phrases = Mapping[str, Sequence[str]]

URGENT_MAX_WORDS = 3
URGENT_MAX_CJK = 6
NEGATIONS = frozenset({"not", "no", "non", "never", "isn't", "isnt", "aren't", "don't", "dont", "nothing",
                       "не", "нет", "ни", "нисколько"})
CJK_NEGATIONS = "不没無无别勿非"
_TOKEN = re.compile(r"[\w']+")


# --- entries -------------------------------------------------------------------------------------


class PhraseTable(Mapping[str, tuple[str, ...]]):
    """Phrases by language, as configured (read-only), each phrase folded once: a rule's or FAQ entry's
    phrases are tried on every customer message (`find_phrase`)."""

    __slots__ = ("_phrases", "folded")

    def __init__(self, phrases: Mapping[str, Sequence[str]] | None = None) -> None:
        self._phrases = {language: tuple(items) for language, items in (phrases or {}).items()}
        self.folded = tuple((language, phrase, fold(phrase)) for language, items in self._phrases.items()
                            for phrase in items)  # (language, phrase, folded phrase) in table order

    def __getitem__(self, language: str) -> tuple[str, ...]:
        return self._phrases[language]

    def __iter__(self) -> Iterator[str]:
        return iter(self._phrases)

    def __len__(self) -> int:
        return len(self._phrases)

    def __repr__(self) -> str:
        return repr(self._phrases)


def _phrases(raw: Any) -> PhraseTable:
    return PhraseTable(raw)


@dataclass(frozen=True)
class Rule:
    """One trigger rule, from a canonical `[rules.NAME]` entry."""

    name: str
    kind: str
    enabled: bool = True
    position: int = 0
    phrases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    priority: str | None = None
    escalate_to: str | None = None
    reply: str | None = None
    count: int | None = None
    after: timedelta | None = None
    emotions: tuple[str, ...] = ()

    @classmethod
    def from_entry(cls, name: str, entry: Mapping[str, Any]) -> Rule:
        after = entry.get("after")
        return cls(
            name=name, kind=entry["kind"], enabled=entry.get("enabled", True), position=entry.get("position", 0),
            phrases=_phrases(entry.get("phrases")), tags=tuple(entry.get("tags") or ()),
            priority=entry.get("priority"), escalate_to=entry.get("escalate_to"), reply=entry.get("reply"),
            count=entry.get("count"), after=timedelta(seconds=parse_duration(after)) if after else None,
            emotions=tuple(entry.get("emotions") or ()))


@dataclass(frozen=True)
class FaqEntry:
    """One FAQ answer: a template key sent when a message matches one of its phrases."""

    name: str
    phrases: Mapping[str, tuple[str, ...]]
    answer: str
    enabled: bool = True

    @classmethod
    def from_entry(cls, name: str, entry: Mapping[str, Any]) -> FaqEntry:
        return cls(name, _phrases(entry.get("phrases")), entry["answer"], entry.get("enabled", True))


def rules_from(section: Mapping[str, Mapping[str, Any]]) -> tuple[Rule, ...]:
    """The rules of a canonical `rules` section, in evaluation order."""
    return ordered(Rule.from_entry(name, entry) for name, entry in section.items())


def faq_from(section: Mapping[str, Mapping[str, Any]]) -> tuple[FaqEntry, ...]:
    """The entries of a canonical `faq` section, in name order."""
    return tuple(sorted((FaqEntry.from_entry(n, e) for n, e in section.items()), key=lambda f: f.name))


def ordered(rules: Iterable[Rule]) -> tuple[Rule, ...]:
    """Evaluation order: position, then name."""
    return tuple(sorted(rules, key=lambda r: (r.position, r.name)))


# --- phrase matching -----------------------------------------------------------------------------


def _each(phrases: Phrases) -> Iterator[tuple[str, str]]:
    for language, items in phrases.items():
        for phrase in items:
            yield language, phrase


@lru_cache(maxsize=4096)
def _folded_phrase(phrase: str) -> str:
    """`fold(phrase)`, remembered: the configured phrases are folded for every message."""
    return fold(phrase)


def find_phrase(phrases: Phrases, folded_text: str) -> tuple[str, str] | None:
    """(language, phrase) of the first phrase, in table order, occurring in already folded text."""
    table = phrases.folded if isinstance(phrases, PhraseTable) else (
        (lang, p, _folded_phrase(p)) for lang, p in _each(phrases))
    for language, phrase, term in table:
        if term in folded_text and contains(folded_text, term):
            return language, phrase
    return None


def phrase_match(phrases: Phrases, text: str) -> str | None:
    """The phrase (of any language) that occurs in `text`, or None. See the module docstring."""
    found = find_phrase(phrases, fold(text))
    return found[1] if found else None


def _core(folded: str) -> str:
    return "".join(c for c in folded if c.isalnum())


def _negated(tokens: list[str], folded: str) -> bool:
    cjk = folded.replace("非常", "")  # 非常 = "very", not a negation
    return any(t in NEGATIONS for t in tokens) or any(c in CJK_NEGATIONS for c in cjk)


def urgent_word(phrases: Phrases, text: str) -> tuple[str, str] | None:
    """(language, phrase) when `text` is essentially the urgent word on its own: without whitespace and
    punctuation it equals a phrase, or it is short (≤ 3 words, ≤ 6 CJK characters), contains a phrase
    and has no negation ("not urgent", "не срочно", "不紧急" do not count)."""
    folded = fold(text)
    core = _core(folded)
    exact = next(((lang, p) for lang, p in _each(phrases)
                  if _core(_folded_phrase(p)) and core == _core(_folded_phrase(p))), None)
    if exact:
        return exact
    tokens = _TOKEN.findall(folded)
    short = len(tokens) <= URGENT_MAX_WORDS and sum(map(is_cjk, folded)) <= URGENT_MAX_CJK
    if not short or _negated(tokens, folded):
        return None
    return find_phrase(phrases, folded)


# --- evaluation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageContext:
    """One customer message and the ticket state the rules need. `emotion` None: assessed here.
    `tier_level` is the ticket's current tier, for callers; rules name tiers by code only."""

    text: str
    emotion: Assessment | None = None
    manager_requests_in_row: int = 0
    escalation_notice_sent: bool = False
    urgent_used: bool = False
    fired: frozenset[str] = frozenset()
    tier_level: int = 1


@dataclass(frozen=True)
class Hit:
    """A rule that fired, why, and what it asks for."""

    rule: str
    kind: str
    why: str
    tags: tuple[str, ...] = ()
    priority: str | None = None
    escalate_to: str | None = None
    reply: str | None = None

    @classmethod
    def of(cls, rule: Rule, why: str) -> Hit:
        return cls(rule.name, rule.kind, why, rule.tags, rule.priority, rule.escalate_to, rule.reply)


@dataclass(frozen=True)
class Evaluation:
    """The hits of one message, and the ticket state to store afterwards."""

    hits: tuple[Hit, ...]
    manager_requests_in_row: int
    urgent_used: bool


@dataclass(frozen=True)
class _Message:
    text: str
    folded: str
    emotion: Assessment
    counter: int
    notice_sent: bool


def _live(rules: Iterable[Rule], fired: Iterable[str] = ()) -> tuple[Rule, ...]:
    done = frozenset(fired)
    return tuple(r for r in ordered(rules) if r.enabled and r.name not in done)


def next_counter(rules: Sequence[Rule], text: str, counter: int) -> int:
    """The shared repeated-request counter after this message: +1 if it asks again, else 0."""
    return _next_counter(rules, fold(text), counter)


def _next_counter(rules: Sequence[Rule], folded: str, counter: int) -> int:
    asking = any(find_phrase(r.phrases, folded) for r in rules if r.enabled and r.kind == "repeated-request")
    return counter + 1 if asking else 0


def _quoted(found: tuple[str, str]) -> str:
    return f'"{found[1]}" ({found[0]})'


def _keyword(rule: Rule, msg: _Message) -> str | None:
    found = find_phrase(rule.phrases, msg.folded)
    return f"keyword {_quoted(found)}" if found else None


def _repeated(rule: Rule, msg: _Message) -> str | None:
    found = find_phrase(rule.phrases, msg.folded)
    if not found or rule.count is None or msg.counter < rule.count:
        return None
    return f"{msg.counter} consecutive requests (count {rule.count}), this one {_quoted(found)}"


def _emotion(rule: Rule, msg: _Message) -> str | None:
    if msg.emotion.level not in rule.emotions:
        return None
    signals = ", ".join(msg.emotion.signals) or "none"
    return f"emotion {msg.emotion.level} (signals: {signals})"


def _urgent(rule: Rule, msg: _Message) -> str | None:
    found = urgent_word(rule.phrases, msg.text) if msg.notice_sent else None
    return f'customer replied "{found[1]}" after an escalation notice' if found else None


_CHECKS = {"keyword": _keyword, "repeated-request": _repeated, "emotion": _emotion, "urgent-reply": _urgent}


def evaluate(rules: Sequence[Rule], ctx: MessageContext) -> Evaluation:
    """The rules one customer message fires, in evaluation order, and the ticket's new counters."""
    emotion = ctx.emotion if ctx.emotion is not None else assess(ctx.text, None)
    folded = fold(ctx.text)
    msg = _Message(ctx.text, folded, emotion, _next_counter(rules, folded, ctx.manager_requests_in_row),
                   ctx.escalation_notice_sent)
    hits: list[Hit] = []
    urgent_used = ctx.urgent_used
    for rule in _live(rules, ctx.fired):
        check = _CHECKS.get(rule.kind)
        if check is None or (rule.kind == "urgent-reply" and urgent_used):
            continue
        why = check(rule, msg)
        if why is not None:
            hits.append(Hit.of(rule, why))
            urgent_used = urgent_used or rule.kind == "urgent-reply"
    return Evaluation(tuple(hits), msg.counter, urgent_used)


# --- time-based rules ----------------------------------------------------------------------------


def _timed(rules: Sequence[Rule], fired: Iterable[str], reached: Collection[str]) -> tuple[Rule, ...]:
    """The live unresolved-for rules that can still act: one that escalates only while the ticket is below
    its target tier (`reached`: the codes of the ticket's tier and those below it)."""
    return tuple(r for r in _live(rules, fired) if r.kind == "unresolved-for" and r.after is not None
                 and r.escalate_to not in reached)


def unresolved_hits(rules: Sequence[Rule], opened_at: datetime, now: datetime,
                    fired: Iterable[str] = (), reached: Collection[str] = ()) -> tuple[Hit, ...]:
    """The unresolved-for rules due at `now` (now - opened_at ≥ after, wall-clock time), not yet fired, whose
    target tier the ticket has not `reached` (the codes of its tier and the tiers below)."""
    open_for = now - opened_at
    shown = _shown(open_for)
    return tuple(Hit.of(r, f"unresolved for {shown} (rule: after {_shown(r.after)})")
                 for r in _timed(rules, fired, reached) if open_for >= r.after)


def _shown(span: timedelta) -> str:
    return format_duration(max(int(span.total_seconds()), 0))


def unresolved_check_at(rules: Sequence[Rule], opened_at: datetime, fired: Iterable[str] = (),
                        reached: Collection[str] = ()) -> datetime | None:
    """The earliest instant an unresolved-for rule not yet fired could fire; None when none can (`reached`
    as for `unresolved_hits`)."""
    return min((opened_at + r.after for r in _timed(rules, fired, reached)), default=None)


# --- FAQ and combining ---------------------------------------------------------------------------


def faq_match(entries: Sequence[FaqEntry], text: str) -> tuple[FaqEntry, str] | None:
    """The first enabled entry, in name order, whose phrases occur in `text`, and the phrase."""
    folded = fold(text)
    for entry in sorted((e for e in entries if e.enabled), key=lambda e: e.name):
        found = find_phrase(entry.phrases, folded)
        if found:
            return entry, found[1]
    return None


@dataclass(frozen=True)
class Outcome:
    """What the hits together ask for. Escalation targets are tier codes in hit order (which is the
    highest needs the tiers' levels, known to the caller); replies are template keys."""

    tags: tuple[str, ...] = ()
    priority: str | None = None
    escalations: tuple[str, ...] = ()
    replies: tuple[str, ...] = ()


def _unique(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def combine(hits: Sequence[Hit]) -> Outcome:
    """Union of tags (sorted), the most urgent priority, escalation codes and replies de-duplicated in order."""
    priorities = [h.priority for h in hits if h.priority]
    return Outcome(
        tags=tuple(sorted({t for h in hits for t in h.tags})),
        priority=min(priorities, key=rank) if priorities else None,
        escalations=_unique(h.escalate_to for h in hits),
        replies=_unique(h.reply for h in hits))
