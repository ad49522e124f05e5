"""Splitting Telegram-HTML texts and captions to Telegram's limits, and checking callback data: examples of
each boundary rule, then Hypothesis properties over generated well-formed HTML (CJK, emoji, accents, long
words, runs of newlines): no chunk over the limit or empty, tags balanced in every chunk, and the visible
text (and each character's formatting) kept in order, only whitespace at the cuts consumed.

"Kept modulo the whitespace at the cuts" is checked exactly: the original's visible text must equal
w0 + v1 + w1 + v2 + ... + vn + wn, where v1..vn are the chunks' visible texts and every w is whitespace
(possibly empty: a hard cut consumes nothing)."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tgesc.domain.telegram import CALLBACK_DATA_LIMIT, CAPTION_LIMIT, TEXT_LIMIT, Button
from tgesc.domain.telegram_text import (
    CallbackDataError,
    CallbackDataTooLong,
    MarkupTooLong,
    check_buttons,
    check_callback_data,
    split_caption,
    split_text,
    telegram_length,
)

TAG = re.compile(r"""<(/?)([a-z][a-z-]*)((?:\s+[a-z-]+="[^"]*")*)>""")


def visible(text: str) -> str:
    """What a reader sees: tags stripped, entities unescaped."""
    return html.unescape(TAG.sub("", text))


def styled(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each visible character with the opening tags (attributes included) around it, outermost first."""
    result: list[tuple[str, tuple[str, ...]]] = []
    stack: list[tuple[str, str]] = []
    for piece in re.split(r"(<[^>]*>|&[^;\s]*;)", text):
        match = TAG.fullmatch(piece)
        if match and match[1]:
            assert stack and stack[-1][0] == match[2], f"unbalanced {piece} in {text!r}"
            stack.pop()
        elif match:
            stack.append((match[2], piece))
        else:
            path = tuple(raw for _, raw in stack)
            result.extend((char, path) for char in html.unescape(piece))
    assert not stack, f"unclosed {stack} in {text!r}"
    return result


def assert_kept(original: str, chunks: list[str]) -> None:
    """original == w0 + v1 + w1 + ... + vn + wn over (character, formatting) pairs; each w whitespace."""
    whole, position = styled(original), 0
    for chunk in chunks:
        part = styled(chunk)
        while position < len(whole) and whole[position][0].isspace() and whole[position: position + len(part)] != part:
            position += 1
        assert whole[position: position + len(part)] == part, f"chunk {chunk!r} not found at {position}"
        position += len(part)
    assert all(char.isspace() for char, _ in whole[position:]), "visible text lost at the end"


def assert_visible_kept(original: str, chunks: list[str]) -> None:
    """The same with plain visible text (tags stripped, entities unescaped)."""
    if chunks == [original]:
        return
    whole, position = visible(original), 0
    for chunk in chunks:
        part = visible(chunk)
        assert part == part.strip(), "a split text's chunks neither start nor end with whitespace"
        position += len(whole[position:]) - len(whole[position:].lstrip())
        assert whole.startswith(part, position), f"{part!r} not at {position} of {whole!r}"
        position += len(part)
    assert not whole[position:].strip()


def check_chunks(text: str, chunks: list[str], limit: int) -> None:
    assert chunks, "a non-empty text gives at least one chunk"
    for chunk in chunks:
        assert telegram_length(chunk) <= limit
        assert visible(chunk).strip(), f"empty chunk {chunk!r}"
    assert_visible_kept(text, chunks)
    assert_kept(text, chunks)  # also: every chunk's tags balanced


# --- examples -------------------------------------------------------------------------------------------


def test_a_text_within_the_limit_comes_back_unchanged():
    text = "<b>Ticket #12</b>\n\n  hello &amp; welcome  \n"
    assert split_text(text) == [text]
    assert split_text("x" * TEXT_LIMIT) == ["x" * TEXT_LIMIT]
    assert split_text("x" * 10, 10) == ["x" * 10]


def test_an_empty_text_is_no_message():
    assert split_text("") == []
    assert split_caption("") == ("", [])


def test_a_long_text_is_split_to_the_default_limit():
    text = "\n\n".join(f"Paragraph {n}. " + "word " * 150 for n in range(20))
    chunks = split_text(text)
    assert len(chunks) > 1
    check_chunks(text, chunks, TEXT_LIMIT)
    assert all(chunk.startswith("Paragraph") for chunk in chunks)  # paragraphs whole where they fit


def test_prefers_a_paragraph_then_a_line_then_a_space_in_the_second_half():
    para = "a" * 50 + " " + "b" * 20 + "\n" + "c" * 10 + "\n\n" + "d" * 10 + " " + "e" * 40
    assert split_text(para, 100)[0] == "a" * 50 + " " + "b" * 20 + "\n" + "c" * 10
    line = "a" * 50 + " " + "b" * 20 + "\n" + "c" * 10 + " " + "d" * 40
    assert split_text(line, 100)[0] == "a" * 50 + " " + "b" * 20
    space = "a" * 50 + " " + "b" * 20 + " " + "c" * 40
    assert split_text(space, 100) == ["a" * 50 + " " + "b" * 20, "c" * 40]


def test_a_late_line_beats_an_early_paragraph_but_any_boundary_beats_a_hard_cut():
    text = "a" * 10 + "\n\n" + "b" * 70 + "\n" + "c" * 40
    assert split_text(text, 100) == ["a" * 10 + "\n\n" + "b" * 70, "c" * 40]
    text = "a" * 10 + " " + "b" * 200
    assert split_text(text, 100) == ["a" * 10, "b" * 100, "b" * 100]


def test_the_whitespace_at_a_cut_is_consumed():
    assert split_text("a" * 8 + " \n\n \n" + "b" * 8, 10) == ["a" * 8, "b" * 8]
    assert split_text("\n\n" + "a" * 8 + " " + "b" * 8 + "\n\n", 10) == ["a" * 8, "b" * 8]


def test_a_long_word_is_cut_hard():
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_never_cuts_inside_an_entity_or_a_tag():
    assert split_text("&amp;" * 6, 12) == ["&amp;&amp;"] * 3
    chunks = split_text('<a href="https://example.com/a?b=1&amp;c=2">' + "link " * 20 + "</a>", 60)
    assert all(c.startswith('<a href="https://example.com/a?b=1&amp;c=2">') and c.endswith("</a>") for c in chunks)
    check_chunks('<a href="https://example.com/a?b=1&amp;c=2">' + "link " * 20 + "</a>", chunks, 60)


def test_open_tags_are_closed_and_reopened_with_their_attributes():
    text = "<b>bold <i>both " + "word " * 10 + "</i> bold</b> plain"
    chunks = split_text(text, 30)
    assert chunks[0].startswith("<b>bold <i>both") and chunks[0].endswith("</i></b>")
    assert chunks[1].startswith("<b><i>word")
    check_chunks(text, chunks, 30)


def test_a_pre_block_is_split_at_lines():
    code = "\n".join(f"line {n:02d} = value" for n in range(10))
    chunks = split_text(f"<pre><code class=\"language-python\">{code}</code></pre>", 100)
    assert [visible(c).count("\n") for c in chunks] == [visible(c).count("line") - 1 for c in chunks]
    assert all(c.startswith('<pre><code class="language-python">line') for c in chunks)


def test_no_empty_element_at_a_hard_cut():
    assert split_text("x" * 8 + "<b>yyyy</b>", 11) == ["x" * 8, "<b>yyyy</b>"]
    assert split_text("<i>" + "x" * 12 + "</i>yy", 14)[0] == "<i>" + "x" * 7 + "</i>"


def test_lengths_count_utf16_units_and_markup():
    assert telegram_length("abc") == 3
    assert telegram_length("😀") == 2
    assert telegram_length("中文") == 2
    assert telegram_length("<b>a</b>") == 8
    assert split_text("😀" * 10, 5) == ["😀😀"] * 5


def test_a_hard_cut_keeps_accents_and_emoji_sequences_whole():
    family = "👨\u200d👩\u200d👧"  # 8 UTF-16 units
    chunks = split_text(family * 3, 20)
    assert chunks == [family * 2, family]
    accented = "e\u0301" * 12
    assert all(not c.startswith("\u0301") for c in split_text(accented, 7))
    assert split_text("👍🏽" * 4, 6) == ["👍🏽"] * 4  # never a skin tone alone


def test_a_non_breaking_space_is_not_a_cut():
    text = "a" * 6 + "\u00a0" + "b" * 6 + " " + "c" * 3
    assert split_text(text, 14) == ["a" * 6 + "\u00a0" + "b" * 6, "c" * 3]


def test_markup_that_leaves_no_room_is_refused():
    with pytest.raises(MarkupTooLong):
        split_text('<a href="https://example.com/very/long/path">' + "x" * 100 + "</a>", 40)
    with pytest.raises(ValueError, match="1 or more"):
        split_text("abc", 0)


def test_a_malformed_text_is_split_without_error():
    for text in ["</b>" + "x " * 30, "<b>" + "x " * 30, "a < b & c " * 10, "<b><i>x y</b> z</i> " * 8]:
        chunks = split_text(text, 20)
        assert all(telegram_length(c) <= 20 for c in chunks)


def test_a_short_caption_stays_whole():
    assert split_caption("<b>photo</b> of the receipt") == ("<b>photo</b> of the receipt", [])


def test_a_long_caption_continues_in_text_messages():
    text = "<b>Receipt</b>\n\n" + "The customer writes: " + "lorem ipsum " * 600
    caption, rest = split_caption(text)
    assert telegram_length(caption) <= CAPTION_LIMIT and caption.startswith("<b>Receipt</b>")
    assert rest and all(telegram_length(chunk) <= TEXT_LIMIT for chunk in rest)
    check_chunks(text, [caption, *rest], TEXT_LIMIT)
    caption, rest = split_caption("word " * 40, 50, text_limit=100)
    assert telegram_length(caption) <= 50 and all(telegram_length(c) <= 100 for c in rest)
    assert len(rest) == 2


def test_callback_data_up_to_64_bytes_passes():
    assert check_callback_data("t:1042:take") == "t:1042:take"
    assert check_callback_data("x" * CALLBACK_DATA_LIMIT) == "x" * CALLBACK_DATA_LIMIT
    assert check_callback_data("中" * 21) == "中" * 21  # 63 bytes


@pytest.mark.parametrize("data", ["x" * 65, "中" * 22, "😀" * 17])
def test_callback_data_over_64_bytes_is_refused(data):
    with pytest.raises(CallbackDataTooLong, match="bytes"):
        check_callback_data(data)


def test_empty_callback_data_is_refused_and_buttons_are_checked():
    with pytest.raises(CallbackDataError):
        check_callback_data("")
    assert issubclass(CallbackDataTooLong, ValueError)
    rows = [[Button("Take", "take:1"), Button("Card", "card:1")]]
    assert check_buttons(rows) is rows
    with pytest.raises(CallbackDataTooLong):
        check_buttons([[Button("Too long", "x" * 100)]])


# --- properties -----------------------------------------------------------------------------------------

WORDS = st.text(alphabet=st.sampled_from("abcxyz中文字😀👍🏽é\u0301&<>\"'"), min_size=1, max_size=12) | st.text(
    alphabet="abcdefgh", min_size=20, max_size=120)  # some long words without spaces
SEPARATORS = st.sampled_from([" ", " ", " ", "  ", "\n", "\n\n", "\n\n\n", " \n ", "\t"])
TEXTS = st.lists(st.tuples(WORDS, SEPARATORS), min_size=1, max_size=40).map(
    lambda parts: "".join(word + separator for word, separator in parts))
SIMPLE_TAGS = ["b", "i", "u", "s", "code", "pre", "tg-spoiler", "blockquote"]


@st.composite
def documents(draw, depth: int = 0) -> tuple[str, int]:
    """Well-formed Telegram-HTML (no empty elements) and the longest open+close tag overhead of any nesting
    path in it."""
    parts, overhead = [], 0
    for _ in range(draw(st.integers(1, 4))):
        if depth < 3 and draw(st.booleans()):
            name = draw(st.sampled_from([*SIMPLE_TAGS, "a"]))
            opening = f"<{name}>"
            if name == "a":
                opening = f'<a href="{html.escape(draw(st.sampled_from(["https://t.me/x", "tg://user?id=1&x=2"])))}">'
            inner, inner_overhead = draw(documents(depth + 1))
            parts.append(f"{opening}{inner}</{name}>")
            overhead = max(overhead, len(opening) + len(name) + 3 + inner_overhead)
        else:
            parts.append(html.escape(draw(TEXTS), quote=False))
    return "".join(parts), overhead


@settings(max_examples=200, deadline=None)
@given(documents(), st.integers(8, 300))
def test_html_chunks_fit_keep_order_and_balance(document, extra):
    text, overhead = document
    limit = 2 * overhead + extra  # room for a chunk starting with closing tags that were reopened
    chunks = split_text(text, limit)
    if not visible(text).strip():
        return
    if telegram_length(text) <= limit:
        assert chunks == [text]
        return
    check_chunks(text, chunks, limit)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab 中😀\n\u0301\u200d&<"), max_size=400), st.integers(5, 80))  # room for &amp;
def test_plain_text_chunks_fit_and_keep_order(raw, limit):
    text = html.escape(raw, quote=False)
    chunks = split_text(text, limit)
    if not raw.strip():
        assert chunks in ([], [text]) or all(telegram_length(c) <= limit for c in chunks)
        return
    check_chunks(text, chunks, limit)


@settings(max_examples=100, deadline=None)
@given(documents(), st.integers(8, 100), st.integers(0, 200))
def test_caption_and_rest_fit_their_limits(document, caption_extra, text_extra):
    text, overhead = document
    caption_limit = 2 * overhead + caption_extra
    text_limit = caption_limit + text_extra
    caption, rest = split_caption(text, caption_limit, text_limit=text_limit)
    if not visible(text).strip():
        return
    assert telegram_length(caption) <= caption_limit
    assert all(telegram_length(chunk) <= text_limit for chunk in rest)
    if telegram_length(text) <= caption_limit:
        assert (caption, rest) == (text, [])
    else:
        check_chunks(text, [caption, *rest], text_limit)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300), st.integers(1, 60))
def test_any_text_never_crashes(text, limit):
    try:
        chunks = split_text(text, limit)
    except MarkupTooLong:
        return
    assert all(telegram_length(chunk) <= limit and chunk for chunk in chunks)


@given(st.text(max_size=80))
def test_callback_data_is_checked_by_its_utf8_size(data):
    size = len(data.encode("utf-8"))
    if 1 <= size <= CALLBACK_DATA_LIMIT:
        assert check_callback_data(data) == data
    else:
        with pytest.raises(CallbackDataError):
            check_callback_data(data)
