"""Templates: registry, body checks, rendering, length limits, shipped files and language fallback."""

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tgesc.domain import templates as t
from tgesc.domain.errors import NotFound, UsageError

EXPECTED_VARIABLES = {
    "greeting": {"customer_name"},
    "comfort": {"customer_name", "ticket", "eta", "priority"},
    "escalation_notice": {"ticket", "tier", "eta"},
    "off_hours": {"ticket", "opens_at"},
    "breach_update": {"ticket", "eta", "progress"},
    "survey": {"ticket"},
    "survey_reminder": {"ticket"},
    "survey_thanks": {"ticket", "stars"},
    "review_invitation": {"ticket"},
    "low_score_followup": {"ticket"},
    "resolved_notice": {"ticket", "reopen_within"},
    "waiting_reminder": {"ticket"},
    "faq_help": {"ticket", "eta"},
    "status": {"tickets"},
    "status_none": set(),
    "language_changed": {"language"},
    "language_help": {"languages"},
    "flood_notice": {"ticket"},
    "ban_notice": {"until"},
    "timezone_changed": {"zone", "time"},
    "timezone_help": set(),
    "timezone_unknown": {"name"},
    "assigned_notice": {"ticket", "tier", "priority", "problem"},
    "ban_notice_indefinite": set(),
    "sla_warning": {"ticket", "priority", "tier", "clock", "left", "due", "todo"},
    "sla_breach": {"ticket", "priority", "tier", "clock", "late", "due", "todo"},
    "weekly_digest": {"since", "until", "opened", "resolved", "open_now", "first_response_median",
                      "resolution_median", "sla_met", "escalations", "csat_average", "csat_answered", "follow_up_rate"},
}


def test_registry_keys_and_variables():
    assert {key: set(spec.variables) for key, spec in t.REGISTRY.items()} == EXPECTED_VARIABLES
    assert set(t.TEMPLATE_KEYS) == set(EXPECTED_VARIABLES)
    assert all(spec.description for spec in t.REGISTRY.values())


def test_custom_keys_may_use_name_and_ticket():
    assert t.is_custom("faq_reset_password") and not t.is_custom("survey")
    assert t.allowed_variables("faq_reset_password") == {"customer_name", "ticket"}


def test_check_key():
    assert t.check_key("faq_reset_2fa") == []
    assert t.check_key("FAQ reset") != [] and t.check_key("") != [] and t.check_key("_x") != []


def test_placeholders():
    assert t.placeholders("Hi $customer_name, ticket #${ticket}: $$5, $ alone") == {"customer_name", "ticket"}
    assert t.placeholders("工单 #$ticket已处理") == {"ticket"}


def test_check_body_lists_every_unknown_variable():
    problems = t.check_body("survey", "Rate $ticket for $eta and ${stars}")
    assert problems == [
        "$eta is not a variable the 'survey' template can use; it can use $ticket",
        "$stars is not a variable the 'survey' template can use; it can use $ticket",
    ]


def test_check_body_syntax_and_empty():
    assert t.check_body("greeting", "   ") == [
        "the body is empty; write the text the customer should receive"
    ]
    problems = t.check_body("faq_price", "costs $5\nor ${ticket")
    assert len(problems) == 2
    assert problems[0].startswith("invalid placeholder '$5' at line 1, column 7")
    assert problems[1].startswith("invalid placeholder '${ticket' at line 2, column 4")
    assert t.check_body("faq_price", "costs $$5 for #$ticket") == []


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("<b>bold", "<b> is never closed"),
        ("<b>x</i>", "</i> does not match"),
        ("<script>x</script>", "not supported"),
        ("a < b", "bare '<'"),
        ("Tom & Jerry", "bare '&'"),
    ],
)
def test_check_body_html(body, fragment):
    assert any(fragment in problem for problem in t.check_body("faq_x", body))


def test_check_body_accepts_telegram_html():
    body = '<b>Hi</b> <a href="https://example.com">link</a> &lt;3 &amp; <span class="tg-spoiler">s</span>'
    assert t.check_body("faq_x", body) == []


def test_render_escapes_values_not_body():
    text = t.render("greeting", "<b>Hello</b>, $customer_name!", {"customer_name": "<Ann & Bob>"})
    assert text == "<b>Hello</b>, &lt;Ann &amp; Bob&gt;!"


def test_render_ignores_unused_values_and_keeps_dollars():
    assert t.render("survey", "#${ticket}: $$1", {"ticket": "42", "eta": "unused"}) == "#42: $1"


def test_render_reports_all_missing_and_unknown_at_once():
    with pytest.raises(UsageError) as caught:
        t.render("comfort", "$customer_name $ticket $eta $tier $stars", {"customer_name": "Ann"})
    assert caught.value.problems == [
        "$stars is not a variable the 'comfort' template can use; it can use $customer_name, $eta, $priority, $ticket",
        "$tier is not a variable the 'comfort' template can use; it can use $customer_name, $eta, $priority, $ticket",
        "no value given for $eta, which the body uses",
        "no value given for $ticket, which the body uses",
    ]
    assert caught.value.exit_code == 2


def test_render_rejects_text_over_the_limit():
    with pytest.raises(UsageError) as caught:
        t.render("faq_long", "x" * 4000 + "$customer_name", {"customer_name": "y" * 97})
    assert "4097 characters" in str(caught.value)
    assert len(t.render("faq_long", "x" * 4000 + "$customer_name", {"customer_name": "y" * 96})) == 4096


def test_length_counts_what_telegram_counts():
    assert t.visible_length("<b>ab</b> &amp;") == 4
    assert t.visible_length("😀") == 2


def test_check_length_at_save_uses_long_sample_values():
    assert t.check_length_at_save("greeting", "x" * 4032 + "$customer_name") == []
    problems = t.check_length_at_save("greeting", "x" * 4033 + "$customer_name")
    assert len(problems) == 1 and "4097 characters" in problems[0]


@pytest.mark.parametrize("language", t.SHIPPED_LANGUAGES)
def test_shipped_languages_have_every_key_and_valid_bodies(language):
    bodies = t.shipped(language)
    assert set(bodies) == set(t.TEMPLATE_KEYS)
    for key, body in bodies.items():
        assert t.check_body(key, body) == [], (language, key)
        assert t.check_length_at_save(key, body) == []
        assert t.placeholders(body) == EXPECTED_VARIABLES[key], (language, key)


@pytest.mark.parametrize("language", t.SHIPPED_LANGUAGES)
def test_escalation_notice_names_the_urgent_word(language):
    assert t.URGENT_WORDS[language] in t.shipped(language)["escalation_notice"]


def test_shipped_texts_follow_the_article():
    en = t.shipped("en")
    assert "I'm very sorry for the inconvenience" in en["comfort"]
    assert "within $eta" in en["comfort"]
    assert "escalated to $tier (ticket #$ticket)" in en["escalation_notice"]
    assert "1–5 stars (5 is the most satisfied)" in en["survey"]
    assert "will continue to be processed from $opens_at" in en["off_hours"]
    assert "what went wrong" in en["low_score_followup"]


def test_shipped_returns_a_copy_and_rejects_unknown_languages():
    t.shipped("en")["survey"] = "changed"
    assert t.shipped("en")["survey"] != "changed"
    with pytest.raises(NotFound):
        t.shipped("de")


def test_lookup_order():
    overrides = {("survey", "ru"): "ru override", ("survey", "en"): "en override", ("faq_x", "en"): "faq"}
    assert t.lookup("survey", "ru", overrides) == ("ru override", "override:ru")
    assert t.lookup("survey", "zh", overrides) == (t.shipped("zh")["survey"], "shipped:zh")
    assert t.lookup("survey", "de", overrides) == ("en override", "override:en")
    assert t.lookup("survey", "de", {}) == (t.shipped("en")["survey"], "shipped:en")
    assert t.lookup("faq_x", "ru", overrides) == ("faq", "override:en")
    assert t.lookup("survey", "zh-hans", {}) == (t.shipped("zh")["survey"], "shipped:zh")


def test_lookup_unknown_key():
    with pytest.raises(NotFound) as caught:
        t.lookup("faq_missing", "ru", {("faq_missing", "zh"): "elsewhere"})
    assert "faq_missing" in str(caught.value)


@pytest.mark.parametrize(("code", "language"), [(None, "en"), ("", "en"), ("zh-hans", "zh"), ("pt_BR", "pt")])
def test_primary_language(code, language):
    assert t.primary_language(code) == language


@given(st.text(max_size=60))
def test_check_body_and_placeholders_never_crash(body):
    problems = t.check_body("faq_x", body)
    assert isinstance(problems, list)
    if not problems:
        values = {name: "v" for name in t.placeholders(body)}
        assert t.render("faq_x", body, values) == string.Template(body).substitute(values)
