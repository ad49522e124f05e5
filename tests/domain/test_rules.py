"""Trigger rules and FAQ matching, exercised with the shipped defaults (tgesc/defaults.toml, validated
and built through Rule.from_entry) in English, Chinese and Russian; hand-made rules for the edges;
Hypothesis properties of phrase matching."""

import tomllib
from datetime import UTC, datetime, timedelta
from importlib.resources import files

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tgesc.domain.config_document import validate_document
from tgesc.domain.emotion import assess, fold
from tgesc.domain.rules import (
    FaqEntry,
    Hit,
    MessageContext,
    Outcome,
    PhraseTable,
    Rule,
    combine,
    evaluate,
    faq_from,
    faq_match,
    find_phrase,
    phrase_match,
    rules_from,
    unresolved_check_at,
    unresolved_hits,
    urgent_word,
)


def shipped_document():
    raw = tomllib.loads((files("tgesc") / "defaults.toml").read_text(encoding="utf-8"))
    doc, problems = validate_document(raw)
    assert problems == []
    return doc


DOC = shipped_document()
RULES = tuple(Rule.from_entry(name, entry) for name, entry in DOC["rules"].items())
FAQ = tuple(FaqEntry.from_entry(name, entry) for name, entry in DOC["faq"].items())
OPENED = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def run(text: str, **state) -> tuple[str, ...]:
    return tuple(h.rule for h in evaluate(RULES, MessageContext(text, **state)).hits)


def hit(text: str, rule: str, **state) -> Hit:
    return next(h for h in evaluate(RULES, MessageContext(text, **state)).hits if h.rule == rule)


# --- entries -------------------------------------------------------------------------------------


def test_from_entry_reads_the_canonical_fields():
    refund = next(r for r in RULES if r.name == "refund")
    assert (refund.kind, refund.position, refund.priority, refund.escalate_to, refund.reply) == (
        "keyword", 10, "high", "L2", "comfort")
    assert refund.tags == ("billing", "refund")
    assert refund.phrases["zh"][0] == "退款"
    unresolved = next(r for r in RULES if r.name == "unresolved-15m")
    assert unresolved.after == timedelta(minutes=15)
    assert next(r for r in RULES if r.name == "asks-for-manager").count == 3
    assert next(r for r in RULES if r.name == "angry-customer").emotions == ("angry", "threatening")
    assert FAQ[0].answer == "faq_reset_2fa" and FAQ[0].enabled


def test_sections_in_order():
    assert [r.name for r in rules_from(DOC["rules"])][:3] == ["angry-customer", "asks-for-manager",
                                                              "customer-says-urgent"]
    assert [r.name for r in rules_from(DOC["rules"])][-5:] == ["refund", "account-ban", "security", "outage", "legal"]
    assert [f.name for f in faq_from(DOC["faq"])] == ["reset-2fa"]


# --- phrase matching -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("Refunds?", "refund"),
    ("REFUND!!", "refund"),
    ("I want my money back", "money back"),
    ("I want my money\n  back", "money back"),  # whitespace runs
    ("ＲＥＦＵＮＤ please", "refund"),  # full-width
    ("我要退款", "退款"),
    ("верните деньги", "верните деньги"),
    ("Верните ДЕНЬГИ", "верните деньги"),
    ("оформите возврат", "возврат"),
    ("prefund the account", None),
    ("no match here", None),
])
def test_phrase_match_refund(text, expected):
    refund = next(r for r in RULES if r.name == "refund")
    assert phrase_match(refund.phrases, text) == expected


def test_phrase_match_stems_and_yo():
    assert phrase_match({"ru": ["жалоб"]}, "Хочу оставить жалобу") == "жалоб"
    assert phrase_match({"ru": ["всё упало"]}, "все упало") == "всё упало"
    assert phrase_match({"ru": ["жалоб"]}, "пожалобиться") is None  # not at a word start


# --- keyword -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "rule", "why"), [
    ("I need a refund", "refund", 'keyword "refund" (en)'),
    ("我要退款", "refund", 'keyword "退款" (zh)'),
    ("верните деньги", "refund", 'keyword "верните деньги" (ru)'),
    ("My account suspended for no reason", "account-ban", 'keyword "account suspended" (en)'),
    ("我被封号了", "account-ban", 'keyword "封号" (zh)'),
    ("аккаунт заблокирован", "account-ban", 'keyword "аккаунт заблокирован" (ru)'),
    ("I think I was hacked", "security", 'keyword "hacked" (en)'),
    ("There is a vulnerability in your login page", "security", 'keyword "vulnerability" (en)'),
    ("数据泄露了", "security", 'keyword "数据泄露" (zh)'),
    ("你们网站有安全漏洞", "security", 'keyword "安全漏洞" (zh)'),
    ("Меня взломали", "security", 'keyword "взломали" (ru)'),
    ("Нашёл уязвимость на сайте", "security", 'keyword "уязвимост" (ru)'),
    ("My lawyer will contact you", "legal", 'keyword "lawyer" (en)'),
    ("We are filing a lawsuit", "legal", 'keyword "lawsuit" (en)'),
    ("I have written to the regulator", "legal", 'keyword "regulator" (en)'),
    ("我要去法院起诉你们", "legal", 'keyword "法院" (zh)'),
    ("我已经找了律师", "legal", 'keyword "律师" (zh)'),
    ("Я подам в суд", "legal", 'keyword "в суд" (ru)'),
    ("Мой юрист свяжется с вами", "legal", 'keyword "юрист" (ru)'),
    ("Пожалуюсь в Роспотребнадзор", "legal", 'keyword "роспотребнадзор" (ru)'),
    ("Your service is down", "outage", 'keyword "service is down" (en)'),
    ("网站无法访问", "outage", 'keyword "无法访问" (zh)'),
    ("Всё упало!", "outage", 'keyword "всё упало" (ru)'),
])
def test_keyword_rules(text, rule, why):
    found = hit(text, rule)
    assert found.kind == "keyword"
    assert found.why == why


def test_keyword_hit_carries_the_rule_actions():
    found = hit("我要退款", "refund")
    assert (found.tags, found.priority, found.escalate_to, found.reply) == (
        ("billing", "refund"), "high", "L2", "comfort")


def test_a_calm_question_fires_only_its_keyword():
    assert run("Hello, how do I change my avatar?") == ()
    assert run("What is your refund policy?") == ("refund",)  # sensitive words tag even calm messages


@pytest.mark.parametrize("text", ["prefund", "unleaked", "washacked", "unmanageable", "невозвратный", "退",
                                  "courteous staff", "такова судьба", "искать"])
def test_keyword_false_positive_guards(text):
    assert run(text) == ()


def test_phrases_match_as_word_prefixes():
    assert run("outages everywhere") == ("outage",)
    assert run("refunded twice?") == ("refund",)


def test_rules_fire_in_order_and_at_most_once():
    text = "I was hacked and I want a refund"
    assert run(text) == ("refund", "security")  # position 10, then 30
    assert run(text, fired=frozenset({"refund"})) == ("security",)


def test_disabled_rules_never_fire():
    rules = [Rule("off", "keyword", enabled=False, phrases={"en": ("refund",)}, tags=("x",))]
    assert evaluate(rules, MessageContext("refund")).hits == ()


# --- repeated-request ----------------------------------------------------------------------------


def conversation(texts, rules=RULES):
    counter, fired, results = 0, frozenset(), []
    for text in texts:
        result = evaluate(rules, MessageContext(text, manager_requests_in_row=counter, fired=fired))
        counter = result.manager_requests_in_row
        fired |= {h.rule for h in result.hits}
        results.append((counter, tuple(h.rule for h in result.hits)))
    return results


def test_three_consecutive_requests_in_russian():
    results = conversation(["позовите менеджера"] * 3)
    assert [c for c, _ in results] == [1, 2, 3]
    assert [("asks-for-manager" in fired) for _, fired in results] == [False, False, True]


def test_repeated_request_why_and_mixed_languages():
    results = evaluate(RULES, MessageContext("找你们经理", manager_requests_in_row=2))
    found = next(h for h in results.hits if h.rule == "asks-for-manager")
    assert found.why == '3 consecutive requests (count 3), this one "经理" (zh)'
    assert (found.escalate_to, found.reply) == ("L2", "comfort")
    assert [c for c, _ in conversation(["I want a manager", "找你们经理", "Дайте руководителя"])] == [1, 2, 3]


def test_another_message_resets_the_counter():
    results = conversation(["I want a manager", "supervisor please", "my order is 123", "manager", "manager"])
    assert [c for c, _ in results] == [1, 2, 0, 1, 2]
    assert all("asks-for-manager" not in fired for _, fired in results)


def test_repeated_request_fires_once_per_ticket():
    results = conversation(["manager"] * 5)
    assert [("asks-for-manager" in fired) for _, fired in results] == [False, False, True, False, False]
    assert [c for c, _ in results] == [1, 2, 3, 4, 5]


def test_repeated_request_rules_share_one_counter():
    rules = [Rule("boss", "repeated-request", phrases={"en": ("boss",)}, count=2, escalate_to="L2"),
             Rule("human", "repeated-request", phrases={"en": ("human",)}, count=3, escalate_to="L3")]
    assert conversation(["boss", "human", "human"], rules) == [(1, ()), (2, ()), (3, ("human",))]
    assert conversation(["human", "boss"], rules) == [(1, ()), (2, ("boss",))]


def test_disabled_repeated_request_rule_does_not_count():
    rules = [Rule("boss", "repeated-request", enabled=False, phrases={"en": ("boss",)}, count=1, priority="high")]
    assert conversation(["boss"], rules) == [(0, ())]


# --- emotion -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "level"), [
    ("WHY IS THIS STILL BROKEN!!!", "angry"),
    ("I'll call my lawyer", "threatening"),
    ("Я подам в суд", "threatening"),
    ("你们就是骗子", "angry"),
    ("мошенники", "angry"),
])
def test_emotion_rule_fires_on_angry_and_threatening(text, level):
    found = hit(text, "angry-customer")
    assert found.why.startswith(f"emotion {level} (signals: ")
    assert (found.priority, found.escalate_to, found.reply) == ("high", "L2", "comfort")


def test_emotion_rule_why_names_the_signals():
    found = hit("WHY IS THIS STILL BROKEN!!!", "angry-customer")
    assert found.why == "emotion angry (signals: dissatisfied:still-broken, caps, exclamations)"


@pytest.mark.parametrize("text", ["I'm disappointed", "Thank you, very courteous", "我很失望", "Я разочарован"])
def test_emotion_rule_ignores_milder_emotions(text):
    assert "angry-customer" not in run(text)


def test_emotion_given_by_the_caller_is_used():
    calm = assess("hello", None)
    assert "angry-customer" not in run("WHY IS THIS STILL BROKEN!!!", emotion=calm)
    assert "angry-customer" in run("hello", emotion=assess("scam", None))


# --- urgent-reply --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "word"), [
    ("urgent", "urgent"), ("URGENT!!!", "urgent"), (" Urgent. ", "urgent"), ("it's urgent", "urgent"),
    ("urgent please", "urgent"), ("very urgent!", "urgent"),
    ("紧急", "紧急"), ("紧急！", "紧急"), ("非常紧急", "紧急"), ("很紧急", "紧急"),
    ("срочно", "срочно"), ("СРОЧНО!", "срочно"), ("очень срочно", "срочно"),
])
def test_urgent_reply_after_a_notice(text, word):
    result = evaluate(RULES, MessageContext(text, escalation_notice_sent=True))
    found = next(h for h in result.hits if h.rule == "customer-says-urgent")
    assert found.why == f'customer replied "{word}" after an escalation notice'
    assert found.priority == "urgent"
    assert result.urgent_used


@pytest.mark.parametrize("text", [
    "not urgent at all", "not urgent", "non-urgent", "no, it's not urgent", "this is urgent, I need my order today",
    "不紧急", "不是紧急", "这个问题其实一点都不紧急",
    "не срочно", "несрочно", "это срочно, мне нужен ответ сегодня",
])
def test_urgent_reply_needs_the_word_on_its_own(text):
    result = evaluate(RULES, MessageContext(text, escalation_notice_sent=True))
    assert "customer-says-urgent" not in [h.rule for h in result.hits]
    assert not result.urgent_used


def test_urgent_reply_only_after_a_notice_and_only_once():
    assert "customer-says-urgent" not in run("urgent")
    assert "customer-says-urgent" not in run("urgent", escalation_notice_sent=True, urgent_used=True)
    used = evaluate(RULES, MessageContext("hello", escalation_notice_sent=True, urgent_used=True))
    assert used.urgent_used  # stays used


def test_urgent_used_is_shared_by_several_urgent_rules():
    rules = [Rule("a", "urgent-reply", phrases={"en": ("urgent",)}, priority="urgent"),
             Rule("b", "urgent-reply", phrases={"en": ("asap",)}, priority="high")]
    result = evaluate(rules, MessageContext("urgent asap", escalation_notice_sent=True))
    assert [h.rule for h in result.hits] == ["a"]


def test_urgent_word_exact_match_of_a_longer_phrase():
    phrase = "right now please do it"
    assert urgent_word({"en": [phrase]}, "Right now, please do it!") == ("en", phrase)


# --- unresolved-for ------------------------------------------------------------------------------


def test_unresolved_never_fires_from_a_message():
    assert "unresolved-15m" not in run("still unresolved after 15 minutes")


def test_unresolved_timing():
    assert unresolved_hits(RULES, OPENED, OPENED + timedelta(minutes=14, seconds=59)) == ()
    (due,) = unresolved_hits(RULES, OPENED, OPENED + timedelta(minutes=15))
    assert (due.rule, due.kind, due.escalate_to) == ("unresolved-15m", "unresolved-for", "L2")
    assert due.why == "unresolved for 15m (rule: after 15m)"
    (late,) = unresolved_hits(RULES, OPENED, OPENED + timedelta(hours=2, seconds=3))
    assert late.why == "unresolved for 2h3s (rule: after 15m)"
    assert unresolved_hits(RULES, OPENED, OPENED + timedelta(hours=1), fired={"unresolved-15m"}) == ()


def test_unresolved_only_fires_below_its_target_tier():
    later = OPENED + timedelta(hours=1)
    assert unresolved_hits(RULES, OPENED, later, reached={"L1"})[0].rule == "unresolved-15m"
    assert unresolved_hits(RULES, OPENED, later, reached={"L1", "L2"}) == ()
    assert unresolved_check_at(RULES, OPENED, (), reached={"L1", "L2", "L3"}) is None
    raise_only = Rule("raise", "unresolved-for", after=timedelta(minutes=30), priority="high")
    assert [h.rule for h in unresolved_hits([raise_only], OPENED, later, reached={"L1", "L2"})] == ["raise"]
    assert unresolved_check_at([raise_only], OPENED, (), reached={"L1", "L2"}) == OPENED + timedelta(minutes=30)


def test_unresolved_check_at_is_the_earliest_pending_rule():
    rules = list(RULES) + [Rule("hour", "unresolved-for", after=timedelta(hours=1), priority="urgent"),
                           Rule("off", "unresolved-for", enabled=False, after=timedelta(minutes=1), priority="low")]
    assert unresolved_check_at(rules, OPENED, ()) == OPENED + timedelta(minutes=15)
    assert unresolved_check_at(rules, OPENED, {"unresolved-15m"}) == OPENED + timedelta(hours=1)
    assert unresolved_check_at(rules, OPENED, {"unresolved-15m", "hour"}) is None
    assert [h.rule for h in unresolved_hits(rules, OPENED, OPENED + timedelta(hours=1))] == ["hour", "unresolved-15m"]


# --- FAQ -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "phrase"), [
    ("How do I reset 2FA?", "2fa"), ("two-step verification broken", "two-step verification"),
    ("怎么关闭两步验证", "两步验证"), ("Как отключить двухэтапную проверку", "двухэтапн"),
])
def test_faq_match(text, phrase):
    entry, matched = faq_match(FAQ, text)
    assert (entry.name, entry.answer, matched) == ("reset-2fa", "faq_reset_2fa", phrase)


def test_faq_match_order_disabled_and_misses():
    entries = [FaqEntry("b-second", {"en": ("password",)}, "b"), FaqEntry("a-first", {"en": ("password",)}, "a"),
               FaqEntry("0-off", {"en": ("password",)}, "off", enabled=False)]
    assert faq_match(entries, "forgot my password")[0].name == "a-first"
    assert faq_match(entries, "hello") is None
    assert faq_match(FAQ, "a2fa") is None


# --- combine -------------------------------------------------------------------------------------


def test_combine():
    hits = evaluate(RULES, MessageContext("SCAM!!! I was hacked and want a refund")).hits
    assert [h.rule for h in hits] == ["angry-customer", "refund", "security"]
    assert combine(hits) == Outcome(tags=("billing", "refund", "security"), priority="urgent",
                                    escalations=("L2", "L3"), replies=("comfort",))


def test_combine_nothing():
    assert combine(()) == Outcome((), None, (), ())
    assert combine([Hit("x", "keyword", "why", tags=("a",))]) == Outcome(("a",), None, (), ())


# --- properties ----------------------------------------------------------------------------------

LATIN_CYRILLIC = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ 0123456789!?.,-",
                         max_size=40)
PHRASE = st.text(min_size=1, max_size=12).filter(str.strip)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["en", "zh", "ru"]), st.lists(PHRASE, max_size=3)), st.text())
def test_phrase_match_never_raises(phrases, text):
    found = phrase_match(phrases, text)
    assert found is None or any(found in items for items in phrases.values())


@settings(max_examples=300, deadline=None)
@given(st.lists(LATIN_CYRILLIC.filter(str.strip), min_size=1, max_size=3), LATIN_CYRILLIC)
def test_phrase_match_is_case_insensitive(phrases, text):
    table = {"xx": phrases}
    expected = phrase_match(table, text)
    assert phrase_match(table, text.upper()) == expected
    assert phrase_match(table, text.lower()) == expected
    assert phrase_match(table, text.casefold()) == expected
    assert phrase_match({"xx": [p.upper() for p in phrases]}, text) == (
        None if expected is None else expected.upper())


@settings(max_examples=300, deadline=None)
@given(PHRASE)
def test_a_phrase_matches_itself(phrase):
    assert phrase_match({"en": [phrase]}, phrase) == phrase
    assert urgent_word({"en": [phrase]}, phrase) is not None or not any(c.isalnum() for c in phrase)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["en", "zh", "ru"]), st.lists(PHRASE | LATIN_CYRILLIC, max_size=4)),
       st.lists(PHRASE | LATIN_CYRILLIC, max_size=4).map(" ".join))
def test_a_phrase_table_matches_as_its_mapping_does(phrases, text):
    table = PhraseTable(phrases)
    assert table == {language: tuple(items) for language, items in phrases.items()}
    assert find_phrase(table, fold(text)) == find_phrase(phrases, fold(text))
    assert urgent_word(table, text) == urgent_word(phrases, text)
