"""Emotion assessment: levels and named signals in English, Chinese and Russian, false-positive guards,
scoring, matching primitives, and Hypothesis properties (never raises, level consistent with signals)."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tgesc.domain import emotion
from tgesc.domain.emotion import EMOTIONS, Assessment, assess, contains, fold, literal_trie, more_intense, shouting


def level(text: str) -> str:
    return assess(text, None).level


@pytest.mark.parametrize(("text", "signal"), [
    ("I'll call my lawyer", "threat:lawyer"),
    ("Our lawyers will hear about this", "threat:lawyer"),
    ("See you in court.", "threat:court"),
    ("I will sue you", "threat:court"),
    ("I'm calling the police", "threat:police"),
    ("I will file a complaint with consumer protection", "threat:regulator"),
    ("I will report you", "threat:report"),
    ("I'll dispute the charge with my bank", "threat:chargeback"),
    ("我要找律师", "threat:lawyer"),
    ("我要起诉你们", "threat:court"),
    ("再不处理我就报警", "threat:police"),
    ("我要投诉", "threat:report"),
    ("我会在网上曝光你们", "threat:expose"),
    ("Я подам в суд", "threat:court"),
    ("Увидимся в суде", "threat:court"),
    ("разберёмся судом", "threat:court"),
    ("напишу жалобу в Роспотребнадзор", "threat:regulator"),
    ("напишу жалобу", "threat:report"),
    ("обращусь к юристу", "threat:lawyer"),
    ("Обращусь в ПОЛИЦИЮ", "threat:police"),
])
def test_threats(text, signal):
    result = assess(text, None)
    assert result.level == "threatening"
    assert signal in result.signals


@pytest.mark.parametrize(("text", "signal"), [
    ("This is a scam", "anger:scam"),
    ("Fraudulent charges on my card", "anger:scam"),
    ("This is ridiculous", "anger:insult"),
    ("damn it, again", "profanity"),
    ("wtf is this", "profanity"),
    ("I'm furious", "anger:rage"),
    ("垃圾服务", "anger:insult"),
    ("你们就是骗子", "anger:scam"),
    ("坑人啊", "anger:scam"),
    ("气死我了", "anger:rage"),
    ("Это обман", "anger:scam"),
    ("мошенники!", "anger:scam"),
    ("это развод", "anger:scam"),
    ("полный бред", "anger:insult"),
    ("чёрт возьми", "profanity"),
])
def test_anger(text, signal):
    result = assess(text, None)
    assert result.level == "angry"
    assert signal in result.signals


@pytest.mark.parametrize(("text", "signal"), [
    ("I'm really disappointed", "dissatisfied:disappointed"),
    ("This is unacceptable", "dissatisfied:unacceptable"),
    ("It's still not working", "dissatisfied:still-broken"),
    ("Your support is too slow", "dissatisfied:slow"),
    ("我很失望", "dissatisfied:disappointed"),
    ("对你们的服务不满意", "dissatisfied:disappointed"),
    ("处理得太慢了", "dissatisfied:slow"),
    ("Я разочарован", "dissatisfied:disappointed"),
    ("Я недоволен обслуживанием", "dissatisfied:disappointed"),
    ("Безобразие", "dissatisfied:unacceptable"),
    ("Всё ещё не работает", "dissatisfied:still-broken"),
])
def test_dissatisfied(text, signal):
    result = assess(text, None)
    assert result.level == "dissatisfied"
    assert signal in result.signals


@pytest.mark.parametrize("text", [
    "Hello, how do I change my e-mail address?",
    "Thank you, your staff were very courteous",  # court
    "Hi, this is Sue from accounting",  # sue
    "Such is fate: судьба такая",  # суд
    "Судно пришло вовремя",  # суд
    "ищу свой заказ",  # иск
    "What is your refund policy?",  # police
    "Please send me the report you mentioned yesterday",  # not "report you" to someone
    "我需要操作指南",  # 操
    "我用工商银行卡付款",  # 工商
    "Everything works now, thanks! Have a good day",  # a single "!"
    "I need to reset my 2FA",
    "ОК",  # too few letters for caps
    "",
    "   ",
])
def test_calm(text):
    assert assess(text, None) == Assessment("calm", 0, ())


def test_caps_and_exclamations_together_are_angry():
    result = assess("WHY IS THIS STILL BROKEN!!!", "en")
    assert result.level == "angry"
    assert result.signals == ("dissatisfied:still-broken", "caps", "exclamations")
    assert result.score == 5


@pytest.mark.parametrize(("text", "signals"), [
    ("PLEASE ANSWER ME NOW", ("caps",)),
    ("ОТВЕТЬТЕ МНЕ СЕЙЧАС", ("caps",)),
    ("Where is my order?!", ("exclamations",)),
    ("Hello!! Anyone?", ("exclamations",)),
    ("hello! anyone! there!", ("exclamations",)),
    ("在吗！！", ("exclamations",)),  # full-width
])
def test_single_weak_signal_is_dissatisfied(text, signals):
    assert assess(text, None) == Assessment("dissatisfied", 2, signals)


def test_caps_threshold():
    assert "caps" in assess("HELLO THEre", None).signals  # 8 of 10 letters
    assert "caps" not in assess("HELLO there", None).signals  # 5 of 10
    assert "caps" not in assess("HELLO", None).signals  # too few letters


def test_shouting_without_words_is_angry():
    assert assess("ANSWER ME RIGHT NOW!!!", None).level == "angry"
    assert assess("ОТВЕТЬТЕ НЕМЕДЛЕННО!!!", None).level == "angry"


def test_threat_outranks_everything_and_signals_are_ordered():
    result = assess("SCAM!!! I'M CALLING MY LAWYER, DISAPPOINTED", None)
    assert result.level == "threatening"
    assert result.signals == ("threat:lawyer", "anger:scam", "dissatisfied:disappointed", "caps", "exclamations")
    assert result.score == 5 + 3 + 1 + 2 + 2


def test_piled_up_dissatisfaction_with_a_weak_signal_is_angry():
    assert level("Still not working, unacceptable, too slow") == "dissatisfied"  # 3
    assert level("Still not working, unacceptable, too slow!!") == "angry"  # 5


def test_mixed_languages_use_every_lexicon():
    result = assess("Your app is 垃圾, я подам в суд", "en")
    assert result.signals == ("threat:court", "anger:insult")


def test_each_concept_counts_once():
    assert assess("scam scam scammers fraud", None) == Assessment("angry", 3, ("anger:scam",))


def test_more_intense():
    assert more_intense("calm", "angry") == "angry"
    assert more_intense("threatening", "dissatisfied") == "threatening"
    assert more_intense("angry", "angry") == "angry"
    assert more_intense("unknown", "calm") == "calm"


def test_fold_and_contains():
    assert fold("  ＲＥＦＵＮＤ\u3000Всё ") == "refund все"
    assert contains(fold("Lawyers!"), "lawyer")
    assert not contains("courteous", "court", whole_word=True)
    assert contains("to court.", "court", whole_word=True)
    assert not contains("prefund", "refund")
    assert contains("我要退款", "退款")
    assert contains("我要refund", "refund")  # a CJK character before a Latin word is a word start
    assert not contains("anything", "")


@settings(max_examples=300, deadline=None)
@given(st.text(), st.none() | st.sampled_from(["en", "zh", "ru", "xx"]))
def test_assess_never_raises_and_is_consistent(text, language):
    result = assess(text, language)
    assert result.level in EMOTIONS
    assert (result.level == "threatening") == any(s.startswith("threat:") for s in result.signals)
    assert (result.score == 0) == (result.level == "calm") == (result.signals == ())


@settings(max_examples=300, deadline=None)
@given(st.sets(st.text("ab.*é我", max_size=5), max_size=12), st.text("ab.*é我", max_size=8))
def test_literal_trie_matches_exactly_its_terms(terms, text):
    pattern = re.compile(literal_trie(terms))
    assert bool(pattern.fullmatch(text)) == (text in terms - {""})  # the empty term is no term
    assert bool(pattern.search(text)) == any(term in text for term in terms if term)


_PIECES = st.one_of(
    st.sampled_from(sorted({term.removesuffix("$") for lexicon in (emotion.THREATS, emotion.ANGER, emotion.DISSATISFIED)
                            for concepts in lexicon.values() for terms in concepts.values() for term in terms})),
    st.text(max_size=4), st.sampled_from([" ", "!", "-", "_", "ё", "我", "s", "ИСК", "Still Not"]))


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES, max_size=6).map("".join))
def test_the_prefilter_finds_every_signal_scanning_every_term_finds(text):
    folded = fold(text)
    scanned = [concept for terms in (emotion._THREAT_TERMS, emotion._ANGER_TERMS, emotion._DISSATISFIED_TERMS)
               for concept in emotion._concepts(folded, terms)]
    found = [signal.split(":")[-1] for signal in emotion.signals_of(text) if signal not in ("caps", "exclamations")]
    assert sorted(found) == sorted(scanned)
    cased = [c for c in text if c.isupper() or c.islower()]
    assert shouting(text) == (len(cased) >= 8 and sum(c.isupper() for c in cased) >= 0.6 * len(cased))
