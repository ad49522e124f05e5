"""Commands typed in Telegram: each command's arguments and refusals, `@bot` suffixes, multi-line text,
internal notes; Hypothesis: format -> parse round trips for generated commands, and any text either parses,
is not a command (None) or is refused with a CommandError, never another exception."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tgesc.domain.bot_commands import (
    ANY_CHAT_COMMANDS,
    CUSTOMER_COMMANDS,
    STAFF_PRIVATE_COMMANDS,
    STAFF_TOPIC_COMMANDS,
    USAGE,
    Command,
    CommandError,
    any_chat_command,
    format_command,
    help_text,
    ids_text,
    is_internal_note,
    note_text,
    parse_command,
    rights_text,
)
from tgesc.domain.telegram import BotRights
from tgesc.domain.vocabulary import PRIORITIES

EVERY_COMMAND = STAFF_TOPIC_COMMANDS | STAFF_PRIVATE_COMMANDS | CUSTOMER_COMMANDS | ANY_CHAT_COMMANDS


def parse(text: str, allowed: frozenset[str] = EVERY_COMMAND, bot: str | None = "TgescBot") -> Command | None:
    return parse_command(text, bot_username=bot, allowed=allowed)


@pytest.mark.parametrize(("text", "command"), [
    ("/take", Command("take")),
    ("/tried restarted the router", Command("tried", {"text": "restarted the router"})),
    ("/tried  cleared the cache\n  then logged in again \n",
     Command("tried", {"text": "cleared the cache\n  then logged in again"})),
    ("/tried\nfirst line\nsecond line", Command("tried", {"text": "first line\nsecond line"})),
    ("/note VIP, be gentle", Command("note", {"text": "VIP, be gentle"})),
    ("/priority URGENT", Command("priority", {"priority": "urgent"})),
    ("/priority   low  ", Command("priority", {"priority": "low"})),
    ("/tag +refund -vip billing", Command("tag", {"add": ("refund", "billing"), "remove": ("vip",)})),
    ("/tag 退款 +data-leak +data-leak", Command("tag", {"add": ("退款", "data-leak"), "remove": ()})),
    ("/escalate l2 over the L1 limit", Command("escalate", {"tier": "L2", "reason": "over the L1 limit"})),
    ("/escalate\n  L3\nline one\nline two", Command("escalate", {"tier": "L3", "reason": "line one\nline two"})),
    ("/quick data leak reported", Command("quick", {"reason": "data leak reported"})),
    ("/resolve", Command("resolve", {"no_survey": False})),
    ("/resolve --no-survey", Command("resolve", {"no_survey": True})),
    ("/resolve nosurvey", Command("resolve", {"no_survey": True})),
    ("/reopen", Command("reopen", {"reason": ""})),
    ("/reopen the refund did not arrive", Command("reopen", {"reason": "the refund did not arrive"})),
    ("/close", Command("close")),
    ("/card", Command("card")),
    ("/mine", Command("mine")),
    ("/queue", Command("queue")),
    ("/start", Command("start", {"payload": None})),
    ("/start ticket_1042", Command("start", {"payload": "ticket_1042"})),
    ("/status", Command("status")),
    ("/status please", Command("status")),  # a customer's extra words are no error
    ("/language", Command("language", {"code": None})),
    ("/language ZH", Command("language", {"code": "zh"})),
    ("/language pt_BR", Command("language", {"code": "pt-br"})),
    ("/ban 7d spam links", Command("ban", {"seconds": 7 * 86_400, "reason": "spam links"})),
    ("/ban 1d4h\nthreats to staff", Command("ban", {"seconds": 100_800, "reason": "threats to staff"})),
    ("/ban abusive language", Command("ban", {"seconds": None, "reason": "abusive language"})),
    ("/ban 2 links of spam", Command("ban", {"seconds": None, "reason": "2 links of spam"})),
    ("/ban 3rd time spamming", Command("ban", {"seconds": None, "reason": "3rd time spamming"})),
    ("/unban", Command("unban", {"reason": ""})),
    ("/first 2026-03-01 14:30", Command("first", {"when": "2026-03-01 14:30"})),
    ("/expected 2026-03-03", Command("expected", {"when": "2026-03-03"})),
    ("/evidence", Command("evidence", {"provided": True})),
    ("/evidence YES", Command("evidence", {"provided": True})),
    ("/evidence no", Command("evidence", {"provided": False})),
    ("/checklist", Command("checklist")),
    ("/r", Command("r", {"key": None})),
    ("/r refund_eta", Command("r", {"key": "refund_eta"})),
    ("/unban apologised", Command("unban", {"reason": "apologised"})),
    ("/bind l2", Command("bind", {"tier": "L2"})),
    ("/bind\n  L3.vendor  ", Command("bind", {"tier": "L3.VENDOR"})),
    ("/TAKE", Command("take")),
    ("  /take", Command("take")),
])
def test_parses(text, command):
    assert parse(text) == command


@pytest.mark.parametrize("text", ["/take@TgescBot", "/take@tgescbot", "/take@TGESCBOT  "])
def test_our_bot_suffix_is_ignored_in_any_case(text):
    assert parse(text) == Command("take")
    assert parse_command(text, bot_username="@tgescbot", allowed=EVERY_COMMAND) == Command("take")


def test_another_bots_command_is_not_for_us():
    assert parse("/take@OtherBot") is None
    assert parse("/nonsense@OtherBot") is None
    assert parse("/take@OtherBot", bot=None) == Command("take")  # our name unknown: assume ours


@pytest.mark.parametrize("text", ["", "hello", "take", " ", "// an internal note", "/ take", "/", "/take@",
                                  "/path/to/file", "/take,", "/тейк", "@TgescBot /take", "\u2028"])
def test_not_a_command(text):
    assert parse(text) is None


@pytest.mark.parametrize(("text", "says"), [
    ("/tried", "needs a text"),
    ("/tried   \n ", "needs a text"),
    ("/note", "needs a text"),
    ("/priority", "one of urgent, high, medium, low"),
    ("/priority soon", "not 'soon'"),
    ("/priority high low", "one of"),
    ("/tag", "at least one tag"),
    ("/tag + -", "not a tag"),
    ("/tag +a -a", "both added and removed"),
    ("/tag #vip", "not a tag"),
    ("/escalate", "needs a tier and a reason"),
    ("/escalate L2", "needs a reason"),
    ("/escalate L2   \n", "needs a reason"),
    ("/escalate (L2) why", "not a tier code"),
    ("/quick", "needs a reason"),
    ("/resolve now", "unknown option"),
    ("/take it", "takes no arguments"),
    ("/close because", "is not a ticket number"),
    ("/card now", "takes no arguments"),
    ("/language english please", "not a language code"),
    ("/language e", "not a language code"),
    ("/ban", "needs a reason"),
    ("/first", "needs a when"),
    ("/expected   ", "needs a when"),
    ("/evidence maybe", "when it is in, no when it is not"),
    ("/checklist now", "takes no arguments"),
    ("/r Refund ETA", "is not a snippet key"),
    ("/ban 7d", "needs a reason"),
    ("/ban 0s  spam", "no time at all"),
    ("/ban 400d spam", "400d"),
    ("/bind", "needs one tier code"),
    ("/bind L2 now", "needs one tier code, not 'L2 now'"),
    ("/bind (L2)", r"'\(L2\)' is not a tier code"),
])
def test_bad_arguments_are_refused_with_the_usage(text, says):
    with pytest.raises(CommandError, match=says) as refused:
        parse(text)
    name = text.split()[0][1:]
    assert USAGE[name] in str(refused.value) and refused.value.command == name
    assert isinstance(refused.value, ValueError)


def test_a_command_not_allowed_here_lists_the_allowed_ones():
    with pytest.raises(CommandError) as refused:
        parse("/take", CUSTOMER_COMMANDS)
    message = str(refused.value)
    assert message.startswith("Unknown command /take")
    assert all(USAGE[name] in message for name in CUSTOMER_COMMANDS)
    assert USAGE["queue"] not in message
    with pytest.raises(CommandError, match="Unknown command /frobnicate"):
        parse("/frobnicate now", STAFF_PRIVATE_COMMANDS)


def test_every_command_has_a_usage_and_help_lists_them_in_order():
    assert set(USAGE) == EVERY_COMMAND
    assert all(USAGE[name].startswith(f"/{name}") for name in USAGE)
    assert help_text(STAFF_PRIVATE_COMMANDS) == f"{USAGE['mine']}\n{USAGE['queue']}"
    assert all(p in USAGE["priority"] for p in PRIORITIES)


def test_internal_notes():
    assert is_internal_note("// customer sounds like a reseller")
    assert is_internal_note("  //x") and is_internal_note("//")
    assert not is_internal_note("/note x") and not is_internal_note("a // b") and not is_internal_note("")
    assert note_text("//  customer sounds\nlike a reseller  ") == "customer sounds\nlike a reseller"
    assert note_text("//") == ""


def test_format_writes_what_parse_reads():
    assert format_command(Command("escalate", {"tier": "L2", "reason": "why"})) == "/escalate L2 why"
    assert format_command(Command("tag", {"add": ("a",), "remove": ("b",)}), bot_username="@Bot") == "/tag@Bot +a -b"
    assert format_command(Command("resolve", {"no_survey": False})) == "/resolve"
    assert format_command(Command("card")) == "/card"


# --- properties -----------------------------------------------------------------------------------------

TEXTS = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=60).map(str.strip).filter(bool)
TAGS = st.from_regex(r"\w[\w.:-]{0,12}", fullmatch=True)
BOTS = st.one_of(st.none(), st.from_regex(r"[A-Za-z][A-Za-z0-9_]{2,20}", fullmatch=True))


@st.composite
def tag_changes(draw) -> dict:
    tags = draw(st.lists(TAGS, unique=True, min_size=1, max_size=6))
    split = draw(st.integers(0, len(tags)))
    return {"add": tuple(tags[:split]), "remove": tuple(tags[split:])}


COMMANDS = st.one_of(
    st.sampled_from(["take", "close", "card", "mine", "queue", "status"]).map(Command),
    st.integers(0, 10**9 - 1).map(lambda number: Command("close", {"number": number})),
    st.one_of(st.none(), TEXTS).map(lambda text: Command("wait", {"text": text})),
    st.builds(lambda name, text: Command(name, {"text": text}), st.sampled_from(["tried", "note"]), TEXTS),
    st.builds(lambda p: Command("priority", {"priority": p}), st.sampled_from(PRIORITIES)),
    tag_changes().map(lambda args: Command("tag", args)),
    st.builds(lambda tier, reason: Command("escalate", {"tier": tier.upper(), "reason": reason}),
              st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,15}", fullmatch=True), TEXTS),
    TEXTS.map(lambda reason: Command("quick", {"reason": reason})),
    st.booleans().map(lambda flag: Command("resolve", {"no_survey": flag})),
    st.one_of(st.just(""), TEXTS).map(lambda reason: Command("reopen", {"reason": reason})),
    st.one_of(st.none(), st.from_regex(r"[a-z]{2,3}(-[a-z0-9]{2,4})?", fullmatch=True)).map(
        lambda code: Command("language", {"code": code})),
    st.one_of(st.none(), TEXTS).map(lambda payload: Command("start", {"payload": payload})),
    st.builds(lambda seconds, reason: Command("ban", {"seconds": seconds, "reason": reason}),
              st.one_of(st.none(), st.integers(1, 365 * 86_400)),
              TEXTS.filter(lambda text: not re.match(r"(?:[0-9]+[dhmsDHMS])+(\s|$)", text))),
    st.one_of(st.just(""), TEXTS).map(lambda reason: Command("unban", {"reason": reason})),
    st.builds(lambda name, when: Command(name, {"when": when}), st.sampled_from(["first", "expected"]), TEXTS),
    st.booleans().map(lambda provided: Command("evidence", {"provided": provided})),
    st.just(Command("checklist")),
    st.one_of(st.none(), st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)).map(
        lambda key: Command("r", {"key": key})),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,15}", fullmatch=True).map(
        lambda tier: Command("bind", {"tier": tier.upper()})),
)


@settings(max_examples=300, deadline=None)
@given(COMMANDS, BOTS)
def test_format_then_parse_gives_the_command_back(command, bot):
    text = format_command(command, bot_username=bot)
    assert parse_command(text, bot_username=bot and bot.swapcase(), allowed=EVERY_COMMAND) == command


PREFIXES = st.sampled_from(["", "/", "//", "/take", "/tag ", "/escalate ", "/priority ", "/resolve ", "/language ",
                            "/start", "/tried", "/x@", "/quick@TgescBot ", "/reopen@Other ", "/bind "])
ALLOWED = st.sampled_from([STAFF_TOPIC_COMMANDS, STAFF_PRIVATE_COMMANDS, CUSTOMER_COMMANDS, EVERY_COMMAND,
                           frozenset()])


@settings(max_examples=300, deadline=None)
@given(PREFIXES, st.text(max_size=40), ALLOWED, BOTS)
def test_any_text_parses_is_no_command_or_is_refused(prefix, rest, allowed, bot):
    text = prefix + rest
    try:
        command = parse_command(text, bot_username=bot, allowed=allowed)
    except CommandError as refusal:
        assert str(refusal)
        return
    if command is not None:
        assert command.name in allowed and text.lstrip().startswith("/")
        assert parse_command(format_command(command), bot_username=None, allowed=allowed) == command
    assert isinstance(is_internal_note(text), bool) and isinstance(note_text(text), str)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60).filter(lambda t: not t.lstrip().startswith("/")), ALLOWED)
def test_text_not_starting_with_a_slash_is_never_a_command(text, allowed):
    assert parse_command(text, bot_username=None, allowed=allowed) is None


@pytest.mark.parametrize(("text", "name"), [("/id", "id"), ("/id@TgescBot", "id"), ("/ID please", "id"),
                                            ("/bind L2", "bind"), ("/bind@tgescbot l2", "bind"),
                                            ("/id@OtherBot", None), ("/bind@OtherBot L2", None), ("/idx", None),
                                            ("id", None), ("/take", None), ("/binder L2", None), ("", None)])
def test_any_chat_command(text, name):
    command = any_chat_command(text, bot_username="TgescBot")
    assert (command and command.name) == name


def test_a_bind_with_unusable_arguments_is_refused_with_its_usage():
    with pytest.raises(CommandError, match="needs one tier code") as refused:
        any_chat_command("/bind", bot_username="TgescBot")
    assert USAGE["bind"] in str(refused.value)


def test_ids_text_says_how_to_connect_a_group():
    assert ids_text(-1001234567890, "supergroup", True, 5001) == (
        "This chat's id: -1001234567890 (supergroup, a forum).\nYour user id: 5001.\n"
        "To make this group a tier's staff chat: /bind TIER here (an admin), "
        "or tgesc tier set TIER --chat -1001234567890 --forum")
    assert ids_text(1001, "private", False, 1001) == "This chat's id: 1001 (private chat).\nYour user id: 1001."


ALL_RIGHTS = BotRights(is_member=True, is_admin=True, can_post=True, can_manage_topics=True, can_pin=True,
                       is_forum=True)


def test_rights_text_with_every_right_says_so():
    assert rights_text(ALL_RIGHTS, forum=True, chat="this forum") == (
        "The bot's rights in this forum: ✓ post messages, ✓ manage topics, ✓ pin messages. It has every right it "
        "needs.")
    assert rights_text(ALL_RIGHTS, forum=False) == (
        "The bot's rights in this group: ✓ post messages, ✓ pin messages. It has every right it needs.")


def test_rights_text_names_exactly_the_missing_rights_and_the_fix():
    member = BotRights(is_member=True, can_post=True)
    assert rights_text(member, forum=False) == (
        "The bot's rights in this group: ✓ post messages, ✗ pin messages.\nMissing: pin messages. Make the bot an "
        "administrator of the group with the right to pin messages, then send /bind again to check.")
    assert rights_text(BotRights(is_member=True, is_forum=True), forum=True).splitlines()[1].startswith(
        "Missing: post messages, manage topics, pin messages. Make the bot an administrator of the group with the "
        "right to post messages, manage topics and pin messages")
    manage_topics_alone = BotRights(is_member=True, is_admin=True, can_post=True, can_pin=True, is_forum=True)
    assert "Missing: manage topics." in rights_text(manage_topics_alone, forum=True)
    assert "manage topics" not in rights_text(manage_topics_alone, forum=False)


def test_rights_text_when_the_bot_is_no_member():
    assert rights_text(BotRights(is_member=False), forum=True, chat="group -1001234567890") == (
        "The bot is no member of group -1001234567890 any more: add it again, as an administrator, and send /bind "
        "again.")
