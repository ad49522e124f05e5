"""Emotion assessment of one customer message: calm, dissatisfied, angry or threatening.

The article's ticket carries a "user emotion assessment" (calm / dissatisfied / angry / threatening);
`assess` makes a first one from the text alone, staff may override it on the ticket.

Lexicons
    Per language (en, zh, ru), each term filed under a concept, so an audit reads "threat:lawyer"
    whether the customer wrote "lawyer", "律师" or "юрист". Every message is checked against every
    language's lexicon: customers mix languages, and the language hint is only that.

Matching (shared with the trigger rules, see `contains`)
    Text and terms are folded: NFKC (full-width ！ becomes !), casefold, ё → е, ’ → ', whitespace runs
    collapsed. A term starting with a CJK character matches anywhere (Chinese has no spaces). A term
    starting with a letter or digit of a spaced script (Latin, Cyrillic ...) matches only at a word
    start and as a prefix: "lawyer" matches "lawyers", "жалоб" matches "жалобу", nothing matches in
    the middle of a word. A lexicon term ending in "$" must also end a word: "court$" matches
    "court" and "to court." but not "courteous"; "суд$" matches "суд" but not "судьба".

Signals and scoring (each distinct signal counts once)
    threat:CONCEPT        5   lawyer, court, police, regulator, report, expose, chargeback
    anger:CONCEPT         3   scam, insult, rage
    profanity             3
    dissatisfied:CONCEPT  1   disappointed, unacceptable, still-broken, slow
    caps                  2   ≥ 60 % capitals among ≥ 8 cased letters (Latin, Cyrillic, Greek ...)
    exclamations          2   ≥ 3 "!" in all, or a run "!!", "?!" or "!?" (full-width forms too)

    level: any threat → threatening; else any anger or profanity, or a score ≥ 4 (caps and
    exclamations together; or piled-up dissatisfaction with a weak signal) → angry; else a score
    ≥ 1 (a dissatisfied word or one weak signal) → dissatisfied; else calm.

Left out on purpose: mild fillers such as "блин" (profanity only in name) and lone words that are
ordinary in support chats ("report", "操作" contains 操, "工商" is also a bank's name, "Sue" is a name).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from tgesc.domain.vocabulary import EMOTIONS

Lexicon = Mapping[str, Mapping[str, tuple[str, ...]]]  # language → concept → terms

THREATS: Lexicon = {
    "en": {
        "lawyer": ("lawyer", "attorney", "legal action"),
        "court": ("court$", "courts$", "sue you", "sue your", "sue the", "sue this", "sue them", "will sue",
                  "going to sue", "i'll sue", "suing$", "lawsuit"),
        "police": ("police", "cops$"),
        "regulator": ("consumer protection", "regulator", "ombudsman", "better business bureau"),
        "report": ("will report you", "i'll report you", "going to report you", "gonna report you", "report you to",
                   "reporting you", "report this to", "report your company", "file a complaint", "formal complaint"),
        "expose": ("expose you", "expose your", "expose this", "go public", "going public", "tell the press"),
        "chargeback": ("chargeback", "dispute the charge"),
    },
    "zh": {
        "lawyer": ("律师",),
        "court": ("起诉", "法院", "告你们", "打官司", "法律途径", "法律程序"),
        "police": ("报警", "警察"),
        "regulator": ("消协", "消费者协会", "12315", "工商局", "市场监管"),
        "report": ("投诉", "举报"),
        "expose": ("曝光", "找媒体"),
        "chargeback": ("拒付",),
    },
    "ru": {
        "lawyer": ("юрист", "адвокат"),
        "court": ("суд$", "суда$", "суду$", "судом$", "суде$", "суды$", "судебн", "иск$", "исков", "засужу"),
        "police": ("полици", "полицейск", "прокуратур"),
        "regulator": ("роспотребнадзор", "прав потребител"),
        "report": ("жалобу$", "жалобой$", "пожалуюсь", "буду жаловаться"),
        "expose": ("сми$", "опубликую", "расскажу всем"),
        "chargeback": ("чарджбэк", "оспорю платеж"),
    },
}

ANGER: Lexicon = {
    "en": {
        "scam": ("scam$", "scams$", "scammer", "scammed$", "scamming$", "fraud", "rip-off", "ripoff",
                 "ripped off", "thieves$", "thief$", "stole my", "stealing my"),
        "insult": ("ridiculous", "pathetic", "incompetent", "idiot", "stupid", "moron", "clowns$", "garbage$",
                   "is a joke", "worst service", "worst support", "worst company", "worst app"),
        "rage": ("angry$", "furious", "pissed", "outrage", "livid$", "sick of", "sick and tired"),
        "profanity": ("damn", "wtf$", "shit", "bullshit", "crap$", "crappy", "fuck", "f*ck", "the hell$",
                      "screw you", "ffs$"),
    },
    "zh": {
        "scam": ("骗子", "骗人", "诈骗", "骗钱", "坑人", "坑钱", "黑心", "黑店", "割韭菜"),
        "insult": ("垃圾", "废物", "智障", "脑残", "白痴", "弱智", "什么破", "破玩意"),
        "rage": ("气死", "愤怒", "生气", "火大", "太过分", "忍无可忍"),
        "profanity": ("他妈", "妈的", "卧槽", "我靠", "尼玛", "傻逼", "傻b", "操你"),
    },
    "ru": {
        "scam": ("обман", "мошенни", "развод", "кидал", "ворюг", "воры$", "лохотрон"),
        "insult": ("идиот", "дебил", "бред$", "позор", "издевател", "клоун", "бездар", "некомпетентн"),
        "rage": ("бесит", "бешенств", "в ярости", "возмущ", "возмут", "достали$", "задолбал"),
        "profanity": ("черт$", "чертов", "хрен", "хер$", "херн", "бля", "сука$", "суки$", "дерьм", "говн", "жоп",
                      "пизд", "хуй", "хуе", "хуя", "ебан", "ебат", "ебал", "заеб"),
    },
}

DISSATISFIED: Lexicon = {
    "en": {
        "disappointed": ("disappoint", "unhappy", "not happy", "not satisfied", "dissatisf", "frustrat", "annoy",
                         "upset", "fed up"),
        "unacceptable": ("unacceptable", "terrible", "awful", "horrible", "useless", "poor service", "bad service"),
        "still-broken": ("still not", "still broken", "still doesn't", "still does not", "still isn't",
                         "still no$", "still waiting", "still haven't", "yet again", "again and again",
                         "keeps failing", "keeps crashing"),
        "slow": ("too slow", "so slow", "very slow", "taking forever", "takes forever", "for hours",
                 "hours already", "days already"),
    },
    "zh": {
        "disappointed": ("失望", "不满", "不开心", "郁闷", "无语", "烦死", "受不了"),
        "unacceptable": ("不能接受", "无法接受", "太差", "很差", "差劲", "离谱", "糟糕"),
        "still-broken": ("还是不行", "还是没", "还没好", "还没解决", "还没收到", "还没到账", "又坏", "一直不",
                         "仍然不"),
        "slow": ("太慢", "好慢", "这么慢", "等了很久", "等了半天", "这么久", "多久了"),
    },
    "ru": {
        "disappointed": ("разочарова", "недовол", "расстро", "надоел", "достало", "не устраивает"),
        "unacceptable": ("безобрази", "неприемлем", "ужасн", "отвратительн", "кошмар", "халтур"),
        "still-broken": ("до сих пор", "опять не", "снова не", "все еще не", "по-прежнему не", "так и не"),
        "slow": ("слишком долго", "так долго", "сколько можно", "сколько ждать", "очень медленно", "долго жду",
                 "жду уже"),
    },
}

WEIGHTS: Mapping[str, int] = {"threat": 5, "anger": 3, "profanity": 3, "dissatisfied": 1, "caps": 2,
                              "exclamations": 2}
ANGRY_SCORE = 4
CAPS_SHARE = 0.6
CAPS_MIN_LETTERS = 8

_EXCLAMATION_RUN = re.compile(r"!!|\?!|!\?")


@dataclass(frozen=True)
class Assessment:
    """An emotion level, its score and the named signals that produced it (for the audit)."""

    level: str
    score: int
    signals: tuple[str, ...]


# --- folding and matching (also used by the trigger rules) --------------------------------------


def fold(text: str) -> str:
    """Text in the one form terms are matched in: NFKC, casefolded, ё → е, ’ → ', single spaces."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е").replace("’", "'")
    return " ".join(folded.split())


def is_cjk(char: str) -> bool:
    """Han ideographs, kana and CJK punctuation/symbols: scripts written without spaces between words."""
    code = ord(char)
    return (0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF
            or 0x20000 <= code <= 0x3FFFF)


def is_word_char(char: str) -> bool:
    """A letter or digit of a script that separates words with spaces (where word starts matter)."""
    return char.isalnum() and not is_cjk(char)


def contains(folded_text: str, folded_term: str, *, whole_word: bool = False) -> bool:
    """Whether a folded term occurs in folded text: anywhere for CJK terms, else at a word start
    (and, with `whole_word`, also ending a word)."""
    if not folded_term:
        return False
    at_start = is_word_char(folded_term[0])
    at_end = whole_word and is_word_char(folded_term[-1])
    start = folded_text.find(folded_term)
    while start != -1:
        end = start + len(folded_term)
        if ((not at_start or start == 0 or not is_word_char(folded_text[start - 1]))
                and (not at_end or end == len(folded_text) or not is_word_char(folded_text[end]))):
            return True
        start = folded_text.find(folded_term, start + 1)
    return False


# --- assessment ----------------------------------------------------------------------------------


def _compile(lexicon: Lexicon) -> tuple[tuple[str, str, bool], ...]:
    """(concept, folded term, whole word) for every term, languages and concepts in lexicon order."""
    return tuple((concept, fold(term.removesuffix("$")), term.endswith("$"))
                 for concepts in lexicon.values() for concept, terms in concepts.items() for term in terms)


_THREAT_TERMS = _compile(THREATS)
_ANGER_TERMS = _compile(ANGER)
_DISSATISFIED_TERMS = _compile(DISSATISFIED)


def _concepts(folded: str, terms: tuple[tuple[str, str, bool], ...]) -> list[str]:
    found: list[str] = []
    for concept, term, whole in terms:
        if concept not in found and term in folded and contains(folded, term, whole_word=whole):
            found.append(concept)
    return found


def literal_trie(terms: Iterable[str]) -> str:
    """A regular expression matching exactly the non-empty `terms`, as literals, factored into a trie:
    the engine tries a shared beginning once, not once per term (a search is several times faster than
    looking for each term in turn)."""
    trie: dict = {}
    for term in terms:
        if term:
            node = trie
            for char in term:
                node = node.setdefault(char, {})
            node[""] = {}  # a term ends here

    def pattern(node: dict) -> str:
        branches = [re.escape(char) + pattern(child) for char, child in sorted(node.items()) if char]
        if "" in node:
            return f"(?:{'|'.join(branches)})?" if branches else ""
        return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"

    return pattern(trie) if trie else "(?!)"  # no term: nothing matches


@cache
def _prefilters() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Two searches that together find every place a term of any lexicon occurs as `contains` matches it
    (and some more): a term starting with a letter or digit of a spaced script where none of [0-9a-zа-я]
    (all such letters or digits) precedes it, any other term (CJK) anywhere. A message neither finds
    anything in, the usual case, has no threat, anger or dissatisfaction signal: no term is tried."""
    terms = [term for lexicon in (_THREAT_TERMS, _ANGER_TERMS, _DISSATISFIED_TERMS) for _, term, _ in lexicon if term]
    at_word_start = [term for term in terms if is_word_char(term[0])]
    anywhere = [term for term in terms if not is_word_char(term[0])]
    return re.compile(f"(?<![0-9a-zа-я]){literal_trie(at_word_start)}"), re.compile(literal_trie(anywhere))


def shouting(text: str) -> bool:
    """≥ 60 % capitals among at least 8 letters that have case."""
    upper = sum(map(str.isupper, text))  # a character is upper, lower or neither
    cased = upper + sum(map(str.islower, text))
    return cased >= CAPS_MIN_LETTERS and upper >= CAPS_SHARE * cased


def exclaiming(normalized: str) -> bool:
    """Three or more "!" in all, or a "!!", "?!" or "!?" run (full-width forms normalised already)."""
    return normalized.count("!") >= 3 or bool(_EXCLAMATION_RUN.search(normalized))


def signals_of(text: str) -> tuple[str, ...]:
    """Every signal in `text`, threats first, then anger, profanity, dissatisfaction, caps, exclamations."""
    normalized = unicodedata.normalize("NFKC", text)
    folded = fold(text)
    found: list[str] = []
    at_word_start, anywhere = _prefilters()
    if at_word_start.search(folded) or anywhere.search(folded):  # most messages contain no term at all
        angry = _concepts(folded, _ANGER_TERMS)
        found += [f"threat:{c}" for c in _concepts(folded, _THREAT_TERMS)]
        found += [f"anger:{c}" for c in angry if c != "profanity"] + (["profanity"] if "profanity" in angry else [])
        found += [f"dissatisfied:{c}" for c in _concepts(folded, _DISSATISFIED_TERMS)]
    found += ["caps"] * shouting(normalized) + ["exclamations"] * exclaiming(normalized)
    return tuple(found)


def _level(signals: tuple[str, ...], score: int) -> str:
    kinds = {s.split(":")[0] for s in signals}
    if "threat" in kinds:
        return "threatening"
    if kinds & {"anger", "profanity"} or score >= ANGRY_SCORE:
        return "angry"
    return "dissatisfied" if score >= 1 else "calm"


def assess(text: str, language: str | None = None) -> Assessment:
    """The emotion of one customer message. `language` is a hint only: every lexicon is consulted."""
    signals = signals_of(text)
    score = sum(WEIGHTS[s.split(":")[0]] for s in signals)
    return Assessment(_level(signals, score), score, signals)


def more_intense(a: str, b: str) -> str:
    """The more intense of two emotion levels (an unknown level counts as milder than calm)."""
    return a if _intensity(a) >= _intensity(b) else b


def _intensity(level: str) -> int:
    return EMOTIONS.index(level) if level in EMOTIONS else -1
