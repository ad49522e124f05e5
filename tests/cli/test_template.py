"""`tgesc template list | show | set | remove | render` through the real CLI entry point."""

from __future__ import annotations

import json

from support import cells, ok_json

from tgesc.domain.templates import TEMPLATE_KEYS, shipped

COMFORT_EN = shipped("en")["comfort"]
COMFORT_RU = shipped("ru")["comfort"]


def show(cli, key: str, lang: str = "en") -> dict:
    return ok_json(cli("template", "show", key, "--lang", lang, "--json"))


def test_list_shows_source_per_language(cli, db_url):
    assert cli("init", "--quiet").exit_code == 0
    rows = json.loads(cli("template", "list", "--json").stdout)
    assert len(rows) == len(TEMPLATE_KEYS) * 3 + 3  # every registry key in en, zh, ru, and the shipped FAQ answer
    assert rows[0] == {"key": "greeting", "language": "en", "source": "shipped:en",
                       "body": shipped("en")["greeting"]}
    assert {"key": "faq_reset_2fa", "language": "zh", "source": "override:zh"} == {
        k: v for k, v in rows[-2].items() if k != "body"}
    assert cli("template", "set", "comfort", "--lang", "de", "--body", "Hallo $customer_name.").exit_code == 0
    table = cli("template", "list", "--lang", "de")
    assert table.exit_code == 0, table
    lines = table.stdout.splitlines()
    assert cells(lines[0]) == ["key", "language", "source", "body"]
    assert cells(lines[2]) == ["greeting", "de", "shipped:en", "Hello, $customer_name! Thank you for contacting u…"]
    assert cells(lines[3]) == ["comfort", "de", "override:de", "Hallo $customer_name."]
    languages = {row["language"] for row in json.loads(cli("template", "list", "--json").stdout)}
    assert languages == {"en", "zh", "ru", "de"}


def test_show_gives_body_source_and_variables(desk):
    assert show(desk, "comfort", "ru") == {
        "key": "comfort", "language": "ru", "source": "shipped:ru",
        "description": "apology and promise of a dedicated contact, sent on a complaint, with the ticket's priority",
        "variables": ["customer_name", "eta", "priority", "ticket"], "body": COMFORT_RU}
    assert show(desk, "comfort", "fr")["source"] == "shipped:en"
    table = desk("template", "show", "comfort")
    assert table.exit_code == 0, table
    lines = table.stdout.splitlines()
    assert cells(lines[2]) == ["key", "comfort"]
    assert cells(lines[6]) == ["variables", "$customer_name $eta $priority $ticket"]
    assert lines[-1] == COMFORT_EN
    missing = desk("template", "show", "no_such_key")
    assert missing.exit_code == 1 and "there is no template 'no_such_key'" in missing.stderr


def test_set_show_round_trip_keeps_other_languages(desk, db_url):
    saved = desk("template", "set", "comfort", "--lang", "en", "--body", "Sorry, $customer_name! #$ticket in $eta.",
                 "--json")
    assert saved.exit_code == 0, saved
    assert json.loads(saved.stdout) == {"key": "comfort", "language": "en", "source": "override:en",
                                        "body": "Sorry, $customer_name! #$ticket in $eta."}
    assert show(desk, "comfort")["source"] == "override:en"
    assert show(desk, "comfort", "ru")["body"] == COMFORT_RU
    assert desk("template", "set", "comfort", "--lang", "ru", "--body", "Простите, $customer_name.").exit_code == 0
    assert show(desk, "comfort")["body"] == "Sorry, $customer_name! #$ticket in $eta."
    assert '[templates.comfort]\nen = "Sorry, $customer_name! #$ticket in $eta."\nru = "Простите, $customer_name."' \
        in desk("config", "export").stdout


def test_set_from_file(desk, tmp_path):
    body = tmp_path / "answer.html"
    body.write_text("Use <b>Settings</b> → Reset, ticket #$ticket.\n", encoding="utf-8")
    assert desk("template", "set", "faq_reset", "--lang", "en", "--file", str(body)).exit_code == 0
    assert show(desk, "faq_reset") == {"key": "faq_reset", "language": "en", "source": "override:en",
                                       "description": "custom template (FAQ answer or rule reply)",
                                       "variables": ["customer_name", "ticket"],
                                       "body": "Use <b>Settings</b> → Reset, ticket #$ticket.\n"}
    both = desk("template", "set", "faq_reset", "--lang", "en", "--file", str(body), "--body", "x")
    assert both.exit_code == 2
    assert desk("template", "set", "faq_reset", "--lang", "en").exit_code == 2


def test_set_rejects_unknown_variables_listing_each(desk):
    result = desk("template", "set", "comfort", "--lang", "en", "--body", "Hi $customer_name, $agent and ${queue}")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: template 'comfort' was not saved:\n")
    assert "templates.comfort.en: $agent is not a variable the 'comfort' template can use" in result.stderr
    assert "templates.comfort.en: $queue is not a variable the 'comfort' template can use" in result.stderr
    assert show(desk, "comfort")["source"] == "shipped:en"


def test_set_rejects_a_body_too_long_when_rendered(desk):
    fits = "x" * 4000 + "$customer_name"  # 4000 + 64-character sample name = 4064
    assert desk("template", "set", "comfort", "--lang", "en", "--body", fits).exit_code == 0
    too_long = "x" * 4040 + "$customer_name"  # 4104 with the sample name
    result = desk("template", "set", "comfort", "--lang", "en", "--body", too_long)
    assert result.exit_code == 1
    assert "templates.comfort.en: with long but plausible values" in result.stderr
    assert "the text is 4104 characters, over Telegram's limit of 4096" in result.stderr
    assert show(desk, "comfort")["body"] == fits


def test_set_rejects_a_bad_key_and_language(desk):
    bad_key = desk("template", "set", "Bad-Key", "--lang", "en", "--body", "x")
    assert bad_key.exit_code == 1 and "'Bad-Key' is not a valid template key" in bad_key.stderr
    assert desk("template", "set", "comfort", "--lang", "EN", "--body", "x").exit_code == 2


def test_remove_an_override(desk):
    assert desk("template", "set", "comfort", "--lang", "en", "--body", "One $ticket").exit_code == 0
    assert desk("template", "set", "comfort", "--lang", "zh", "--body", "二 $ticket").exit_code == 0
    assert desk("template", "remove", "comfort", "--lang", "en").exit_code == 2  # needs --yes off a terminal
    dry = desk("template", "remove", "comfort", "--lang", "en", "--dry-run")
    assert dry.exit_code == 0 and "Would remove the en override of template comfort" in dry.stderr
    assert show(desk, "comfort")["source"] == "override:en"
    assert desk("template", "remove", "comfort", "--lang", "en", "--yes").exit_code == 0
    after = show(desk, "comfort")
    assert (after["source"], after["body"]) == ("shipped:en", COMFORT_EN)
    assert show(desk, "comfort", "zh")["body"] == "二 $ticket"
    last = desk("template", "remove", "comfort", "--lang", "zh", "--yes")
    assert last.exit_code == 0 and "it has no overrides left" in last.stderr
    assert '[templates.comfort]' not in desk("config", "export").stdout
    gone = desk("template", "remove", "comfort", "--lang", "zh", "--yes")
    assert gone.exit_code == 1 and "template 'comfort' has no 'zh' override" in gone.stderr


def test_remove_refused_while_a_custom_template_is_used(desk):
    used = desk("template", "remove", "faq_reset_2fa", "--lang", "en", "--yes")
    assert used.exit_code == 0  # zh and ru remain
    assert desk("template", "remove", "faq_reset_2fa", "--lang", "zh", "--yes").exit_code == 0
    refused = desk("template", "remove", "faq_reset_2fa", "--lang", "ru", "--yes")
    assert refused.exit_code == 1
    assert "it is still used by faq.reset-2fa.answer;" in refused.stderr


def test_render_escapes_values(desk):
    result = desk("template", "render", "comfort", "--lang", "en", "--var", "customer_name=<b>Ana</b> & co",
                  "--var", "ticket=1042", "--var", "eta=30 minutes", "--var", "priority=high priority")
    assert result.exit_code == 0, result
    assert result.stdout == ("Dear &lt;b&gt;Ana&lt;/b&gt; &amp; co, I'm very sorry for the inconvenience. "
                             "I have marked your problem as high priority (ticket #1042), and a dedicated person "
                             "will contact you within 30 minutes.\n")
    as_json = json.loads(desk("template", "render", "survey", "--lang", "zh", "--var", "ticket=7", "--json").stdout)
    assert as_json == {"key": "survey", "language": "zh", "source": "shipped:zh",
                       "text": shipped("zh")["survey"].replace("$ticket", "7")}


def test_render_reports_every_missing_and_unknown_variable_at_once(desk):
    result = desk("template", "render", "comfort", "--lang", "en", "--var", "eta=1h", "--var", "agent=Bob")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Error: cannot render template 'comfort' (shipped:en): 4 problem(s); "
        "pass --var NAME=VALUE for each variable the body uses\n"
        "  - $agent is not a variable of template 'comfort' (it can use customer_name, eta, priority, ticket)\n"
        "  - no value given for $customer_name, which the body uses\n"
        "  - no value given for $priority, which the body uses\n"
        "  - no value given for $ticket, which the body uses\n")


def test_render_usage_errors(desk):
    malformed = desk("template", "render", "comfort", "--var", "ticket")
    assert malformed.exit_code == 2 and "is not NAME=VALUE" in malformed.stderr
    assert desk("template", "render", "comfort", "--var", "=x").exit_code == 2
    assert desk("template", "render", "nope", "--var", "ticket=1").exit_code == 1
