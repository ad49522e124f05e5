"""Commands people type to the bot in Telegram, parsed into a `Command` (name and arguments) or refused with
a `CommandError` whose message says what is wrong and how the command is used.

Where each is accepted (the caller passes the set as `allowed`):
- staff, in a ticket's forum topic or card thread (`STAFF_TOPIC_COMMANDS`): /take, /tried TEXT, /note TEXT,
  /priority P, /tag +a -b, /escalate TIER REASON, /quick REASON, /resolve [--no-survey], /reopen [REASON],
  /close, /card, /wait [TEXT], /first WHEN, /expected WHEN, /evidence [no], /checklist, the customer's portrait
  (/ctag +a -b, /cnote TEXT, /tz ZONE), /r [KEY] (a canned reply), /ban [DURATION] REASON, /unban [REASON] (the
  ticket's customer; leads and admins);
- staff, in a private chat with the bot (`STAFF_PRIVATE_COMMANDS`): /mine, /queue;
- anybody, in any chat the bot is in (`ANY_CHAT_COMMANDS`, read by `any_chat_command`): /id (the chat's id and
  the sender's: `ids_text`), /bind TIER (an admin makes the group TIER's staff chat; `rights_text` then says which
  of the rights the desk needs there the bot has);
- customers, in a private chat (`CUSTOMER_COMMANDS`): /start [PAYLOAD], /status, /language [CODE],
  /close [NUMBER] (their own ticket: the number, or their only open one), /timezone [ZONE or CITY].

`/cmd@BotName args` is ours when BotName is our bot (any case); another bot's command is not for us (None).
Arguments may span lines (TEXT and REASON keep their newlines) and be spaced freely. A staff message
starting with `//` is an internal note, never relayed to the customer (`is_internal_note`, `note_text`).
`format_command` writes a command back as text: parsing it gives the same command.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tgesc.domain.durations import DurationError, format_duration, parse_duration
from tgesc.domain.telegram import BotRights
from tgesc.domain.vocabulary import PRIORITIES

STAFF_TOPIC_COMMANDS = frozenset({"take", "tried", "note", "priority", "tag", "escalate", "quick", "resolve",
                                  "reopen", "close", "card", "wait", "first", "expected", "evidence",
                                  "checklist", "ctag", "cnote", "tz", "r", "ban", "unban"})
STAFF_PRIVATE_COMMANDS = frozenset({"mine", "queue"})
ANY_CHAT_COMMANDS = frozenset({"id", "bind"})
CUSTOMER_COMMANDS = frozenset({"start", "status", "language", "close", "timezone"})

USAGE: Mapping[str, str] = {
    "take": "/take — assign this ticket to yourself",
    "tried": "/tried TEXT — record what was already tried (the next tier reads it)",
    "note": "/note TEXT — add an internal note, never sent to the customer (or start a message with //)",
    "priority": f"/priority {'|'.join(PRIORITIES)} — change the priority; the SLA clocks follow",
    "tag": "/tag +TAG -TAG … — add tags (+ or no sign) and remove tags (-)",
    "escalate": "/escalate TIER REASON — escalate to TIER (e.g. L2); the reason is read there first",
    "quick": "/quick REASON — escalate an obviously urgent case straight to the top tier",
    "resolve": "/resolve [--no-survey] — resolve the ticket; the survey follows unless --no-survey",
    "reopen": "/reopen [REASON] — reopen the ticket",
    "close": "/close [NUMBER] — close the ticket (its number: when you have several)",
    "wait": "/wait [TEXT] — wait on the customer (TEXT is sent to them first); the SLA clocks pause",
    "card": "/card — show the ticket's card here",
    "first": "/first WHEN — when the problem first occurred (2026-03-01, or 2026-03-01 14:30 in the customer's zone)",
    "expected": "/expected WHEN — when the customer expects it solved (e.g. 2026-03-03 18:00, the customer's zone)",
    "evidence": "/evidence [no] — the customer's screenshots or logs are in (or, with no, are not)",
    "checklist": "/checklist — the handover checklist: what is filled in and what is missing",
    "r": "/r [KEY] — send the customer a canned reply (tgesc snippet list); /r alone offers them as buttons",
    "ctag": "/ctag +TAG -TAG … — tag the customer (their portrait, on every card of theirs)",
    "cnote": "/cnote TEXT — keep a note about the customer (on every card of theirs; never sent to them)",
    "tz": "/tz ZONE — the customer's time zone (e.g. Europe/Berlin, or a city: berlin)",
    "ban": "/ban [DURATION] REASON — ban the customer (e.g. /ban 7d spam): their messages are kept, unanswered",
    "unban": "/unban [REASON] — lift the customer's ban",
    "mine": "/mine — your open tickets",
    "id": "/id — this chat's id and yours (what connecting a group to a tier needs)",
    "bind": "/bind TIER — make this group TIER's staff chat, e.g. /bind L2 (admins); the bot checks its rights here",
    "queue": "/queue — the open tickets of your tiers",
    "start": "/start — write to support",
    "status": "/status — where your requests stand",
    "language": "/language [CODE] — choose your language, e.g. /language en (or zh, ru)",
    "timezone": "/timezone [CITY] — your time zone, e.g. /timezone berlin (or pick one from the buttons)",
}

_HEAD = re.compile(r"/(?P<name>[A-Za-z0-9_]{1,32})(?:@(?P<bot>[A-Za-z0-9_]{1,64}))?(?=\s|$)")
_TAG = re.compile(r"(?P<sign>[+-]?)(?P<tag>\w[\w.:-]*)")
_TIER = re.compile(r"[A-Za-z0-9][\w.-]{0,15}", re.ASCII)
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,4})?", re.ASCII)
_DURATION = re.compile(r"(?:[0-9]+[dhms])+", re.ASCII | re.IGNORECASE)  # duration-shaped: /ban's first word
_NO_SURVEY = ("nosurvey",)  # --no-survey, nosurvey, no_survey ... once dashes and underscores are dropped
_SNIPPET_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}", re.ASCII)
_SNIPPET_PRESS = re.compile(r"snippet:(?P<number>[0-9]{1,9}):(?P<key>[a-z][a-z0-9_]{0,40})", re.ASCII)


class CommandError(ValueError):
    """A command for us that cannot be carried out as typed; the message (what is wrong, and the usage)
    is the reply."""

    def __init__(self, message: str, command: str | None = None) -> None:
        super().__init__(message)
        self.command = command


@dataclass(frozen=True)
class Command:
    """A parsed command: its name (without the slash) and its arguments, by the keys each command has:
    tried/note: text · priority: priority · tag: add, remove (tuples) · escalate: tier, reason ·
    quick: reason · resolve: no_survey · reopen: reason ('' when none) · language: code (None when
    none) · start: payload (None when none) · wait: text (None when none) · close: number (a customer's, only
    when given) · ban: seconds (None: until lifted), reason · unban: reason ('' when none) · first/expected:
    when (as typed) · evidence: provided · ctag: add, remove · cnote: text · tz: zone · timezone, r: zone, key
    (None when none) · bind: tier; the others have none."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


def parse_command(text: str, *, bot_username: str | None, allowed: frozenset[str]) -> Command | None:
    """The command `text` gives, None when it is not a command (no leading `/name`) or is another bot's;
    CommandError when it is a command for us that is not `allowed` here or has unusable arguments."""
    head = _HEAD.match(text.lstrip())
    if head is None:
        return None
    if head["bot"] and bot_username and head["bot"].casefold() != bot_username.lstrip("@").casefold():
        return None
    name = head["name"].lower()
    if name not in allowed or name not in _PARSERS:
        raise CommandError(f"Unknown command /{name}. Here you can use:\n{help_text(allowed)}", name)
    return Command(name, _PARSERS[name](text.lstrip()[head.end():].strip()))


def any_chat_command(text: str, *, bot_username: str | None) -> Command | None:
    """The /id or /bind that `text` is (for us, or for no bot in particular); None when it is neither (another
    command, another bot's, or no command). CommandError: /bind with unusable arguments."""
    head = _HEAD.match(text.lstrip())
    if head is None or head["name"].lower() not in ANY_CHAT_COMMANDS:
        return None
    return parse_command(text, bot_username=bot_username, allowed=ANY_CHAT_COMMANDS)


def ids_text(chat_id: int, chat_type: str, is_forum: bool, user_id: int) -> str:
    """The answer to /id: the chat's id (and kind) and the sender's, and for a group how to connect it to a tier."""
    kind = "private chat" if chat_type == "private" else f"{chat_type}{', a forum' if is_forum else ''}"
    text = f"This chat's id: {chat_id} ({kind}).\nYour user id: {user_id}."
    if chat_type != "private":
        text += (f"\nTo make this group a tier's staff chat: /bind TIER here (an admin), or tgesc tier set TIER "
                 f"--chat {chat_id}" + (" --forum" if is_forum else ""))
    return text


_RIGHTS = (("can_post", "post messages"), ("can_manage_topics", "manage topics"), ("can_pin", "pin messages"))


def rights_text(rights: BotRights, *, forum: bool, chat: str = "this group") -> str:
    """The rights check after /bind: each right the desk needs in a tier's staff chat (`chat`, as the answer names it;
    manage topics: in a forum, where each ticket gets a topic), present (✓) or missing (✗), and what to do about
    those missing."""
    if not rights.is_member:
        return f"The bot is no member of {chat} any more: add it again, as an administrator, and send /bind again."
    needed = [(name, label) for name, label in _RIGHTS if forum or name != "can_manage_topics"]
    listed = ", ".join(f"{'✓' if getattr(rights, name) else '✗'} {label}" for name, label in needed)
    missing = [label for name, label in needed if not getattr(rights, name)]
    if not missing:
        return f"The bot's rights in {chat}: {listed}. It has every right it needs."
    return (f"The bot's rights in {chat}: {listed}.\nMissing: {', '.join(missing)}. Make the bot an administrator "
            f"of the group with the right to {_and(missing)}, then send /bind again to check.")


def _and(words: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def help_text(allowed: Iterable[str]) -> str:
    """One usage line per allowed command, alphabetically."""
    return "\n".join(USAGE[name] for name in sorted(allowed) if name in USAGE)


def format_command(command: Command, *, bot_username: str | None = None) -> str:
    """`command` as one would type it (parsing it gives `command` back)."""
    args, name = command.args, command.name
    words = {
        "tried": [args.get("text")], "note": [args.get("text")], "priority": [args.get("priority")],
        "tag": [*(f"+{tag}" for tag in args.get("add", ())), *(f"-{tag}" for tag in args.get("remove", ()))],
        "ctag": [*(f"+{tag}" for tag in args.get("add", ())), *(f"-{tag}" for tag in args.get("remove", ()))],
        "cnote": [args.get("text")], "tz": [args.get("zone")], "timezone": [args.get("zone")],
        "r": [args.get("key")],
        "escalate": [args.get("tier"), args.get("reason")], "quick": [args.get("reason")],
        "resolve": ["--no-survey" if args.get("no_survey") else None], "reopen": [args.get("reason")],
        "language": [args.get("code")], "start": [args.get("payload")], "wait": [args.get("text")],
        "close": [str(args["number"]) if "number" in args else None],
        "first": [args.get("when")], "expected": [args.get("when")],
        "evidence": [None if args.get("provided", True) else "no"],
        "ban": [format_duration(args["seconds"]) if args.get("seconds") else None, args.get("reason")],
        "unban": [args.get("reason")], "bind": [args.get("tier")],
    }.get(name, [])
    suffix = f"@{bot_username.lstrip('@')}" if bot_username else ""
    return " ".join([f"/{name}{suffix}", *(word for word in words if word)])


def is_internal_note(text: str) -> bool:
    """Whether a staff message is an internal note (starts with `//`): kept on the ticket, never relayed."""
    return text.lstrip().startswith("//")


def note_text(text: str) -> str:
    """The note an internal-note message carries, without its `//`."""
    return text.lstrip().removeprefix("//").strip()


# --- one parser per command: the text after the command (stripped) to its arguments ---------------------


def _refuse(name: str, problem: str) -> CommandError:
    return CommandError(f"{problem}. Usage: {USAGE[name]}", name)


def _nothing(name: str) -> Callable[[str], dict[str, Any]]:
    def parse(rest: str) -> dict[str, Any]:
        if rest:
            raise _refuse(name, f"/{name} takes no arguments")
        return {}
    return parse


def _ignored(rest: str) -> dict[str, Any]:
    return {}


def _text_of(name: str, key: str) -> Callable[[str], dict[str, Any]]:
    def parse(rest: str) -> dict[str, Any]:
        if not rest:
            raise _refuse(name, f"/{name} needs a {key}")
        return {key: rest}
    return parse


def _priority(rest: str) -> dict[str, Any]:
    words = rest.split()
    if len(words) != 1 or words[0].lower() not in PRIORITIES:
        raise _refuse("priority", f"/priority needs one of {', '.join(PRIORITIES)}" +
                      (f", not {rest!r}" if rest else ""))
    return {"priority": words[0].lower()}


def _tag_changes(name: str) -> Callable[[str], dict[str, Any]]:
    """The parser of /tag and /ctag: `+a -b c` (no sign: add)."""
    return lambda rest: _tags(rest, name)


def _snippet(rest: str) -> dict[str, Any]:
    if rest and not _SNIPPET_KEY.fullmatch(rest):
        raise _refuse("r", f"{rest[:40]!r} is not a snippet key (lowercase letters, digits and _)")
    return {"key": rest or None}


def snippet_buttons(number: int, keys: Iterable[str]) -> list[list[dict[str, str]]]:
    """The inline keyboard under /r: a button per snippet, two a row; a tap sends it to ticket `number`'s
    customer."""
    buttons = [{"text": key, "data": f"snippet:{number}:{key}"} for key in keys]
    return [buttons[i:i + 2] for i in range(0, len(buttons), 2)]


def parse_snippet_press(data: str) -> tuple[int, str] | None:
    """(ticket number, snippet key) of a /r button; None when `data` is not one."""
    match = _SNIPPET_PRESS.fullmatch(data or "")
    return (int(match["number"]), match["key"]) if match else None


def _timezone(rest: str) -> dict[str, Any]:
    return {"zone": rest or None}


def _tags(rest: str, name: str) -> dict[str, Any]:
    add: dict[str, None] = {}
    remove: dict[str, None] = {}
    for word in rest.split():
        match = _TAG.fullmatch(word)
        if match is None:
            raise _refuse(name, f"{word!r} is not a tag: a tag is a word, with + to add it or - to remove it")
        (remove if match["sign"] == "-" else add)[match["tag"]] = None
    if not add and not remove:
        raise _refuse(name, f"/{name} needs at least one tag")
    both = [tag for tag in add if tag in remove]
    if both:
        raise _refuse(name, f"{', '.join(both)}: both added and removed")
    return {"add": tuple(add), "remove": tuple(remove)}


def _escalate(rest: str) -> dict[str, Any]:
    tier, reason = (rest.split(None, 1) + ["", ""])[:2]
    reason = reason.strip()
    if not tier:
        raise _refuse("escalate", "/escalate needs a tier and a reason")
    if not _TIER.fullmatch(tier):
        raise _refuse("escalate", f"{tier!r} is not a tier code (like L2)")
    if not reason:
        raise _refuse("escalate", f"/escalate {tier.upper()} needs a reason: the next tier reads it first")
    return {"tier": tier.upper(), "reason": reason}


def _bind(rest: str) -> dict[str, Any]:
    words = rest.split()
    if len(words) != 1:
        raise _refuse("bind", "/bind needs one tier code" + (f", not {rest[:40]!r}" if rest else ""))
    if not _TIER.fullmatch(words[0]):
        raise _refuse("bind", f"{words[0][:40]!r} is not a tier code (like L2)")
    return {"tier": words[0].upper()}


def _resolve(rest: str) -> dict[str, Any]:
    flag = rest.lower().replace("-", "").replace("_", "")
    if rest and flag not in _NO_SURVEY:
        raise _refuse("resolve", f"unknown option {rest!r}")
    return {"no_survey": bool(rest)}


def _reopen(rest: str) -> dict[str, Any]:
    return {"reason": rest}


def _wait(rest: str) -> dict[str, Any]:
    return {"text": rest or None}


def _evidence(rest: str) -> dict[str, Any]:
    answer = rest.lower()
    if answer not in ("", "yes", "no"):
        raise _refuse("evidence", f"{rest!r}: say nothing (or yes) when it is in, no when it is not")
    return {"provided": answer != "no"}


def _ban(rest: str) -> dict[str, Any]:
    first, after = (rest.split(None, 1) + ["", ""])[:2]
    seconds: int | None = None
    if _DURATION.fullmatch(first):  # "7d", "12h", "1d4h"; "2 links of spam" and "3rd time" are reasons
        try:
            seconds = parse_duration(first)
        except DurationError as error:
            raise _refuse("ban", str(error)) from None
    else:
        after = rest
    if seconds == 0:
        raise _refuse("ban", f"{first!r} is no time at all; leave the duration out to ban until lifted")
    if not after.strip():
        raise _refuse("ban", "/ban needs a reason: the audit log and the team read it")
    return {"seconds": seconds, "reason": after.strip()}


def _close(rest: str) -> dict[str, Any]:
    """Nothing (staff, in a ticket's thread; a customer with one open ticket), or a ticket number: `/close 12`."""
    if not rest:
        return {}
    digits = rest.removeprefix("#")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 9:
        raise _refuse("close", f"{rest!r} is not a ticket number")
    return {"number": int(digits)}


def _language(rest: str) -> dict[str, Any]:
    code = rest.lower().replace("_", "-")
    if rest and not _LANGUAGE.fullmatch(code):
        raise _refuse("language", f"{rest!r} is not a language code")
    return {"code": code or None}


def _start(rest: str) -> dict[str, Any]:
    return {"payload": rest or None}


_PARSERS: Mapping[str, Callable[[str], dict[str, Any]]] = {
    "take": _nothing("take"), "tried": _text_of("tried", "text"), "note": _text_of("note", "text"),
    "priority": _priority, "tag": _tag_changes("tag"), "escalate": _escalate,
    "ctag": _tag_changes("ctag"), "cnote": _text_of("cnote", "text"), "tz": _text_of("tz", "zone"),
    "timezone": _timezone, "r": _snippet, "quick": _text_of("quick", "reason"),
    "resolve": _resolve, "reopen": _reopen, "close": _close, "card": _nothing("card"), "wait": _wait,
    "ban": _ban, "unban": _reopen, "first": _text_of("first", "when"), "expected": _text_of("expected", "when"),
    "evidence": _evidence, "checklist": _nothing("checklist"),
    "mine": _nothing("mine"), "queue": _nothing("queue"), "id": _ignored, "bind": _bind,
    "start": _start, "status": _ignored, "language": _language,
}
