"""`tgesc snippet list | show | add | set | remove` through the real CLI entry point, on SQLite and PostgreSQL: the
canned replies of the escalation configuration, checked as templates are, exported and imported with the rest."""

from __future__ import annotations

from support import ok_json


def test_add_list_show_set_remove(desk, tmp_path):
    assert desk("snippet", "list").stdout == "(none)\n"
    added = desk("snippet", "add", "refund_eta", "--text", "en:Hi $customer_name, #$ticket is refunded within $eta.",
                 "--text", "zh:您好,工单 #$ticket 的退款将在 $eta 内到账。", "--json")
    assert ok_json(added) == {"snippet": "refund_eta", "text": {
        "en": "Hi $customer_name, #$ticket is refunded within $eta.",
        "zh": "您好,工单 #$ticket 的退款将在 $eta 内到账。"}}
    listed = desk("snippet", "list").stdout.splitlines()
    assert listed[0].split() == ["snippet", "languages", "text"] and listed[2].startswith("refund_eta  en, zh")
    changed = ok_json(desk("snippet", "set", "refund_eta", "--text", "ru:Возврат по #$ticket в пути.",
                           "--remove-language", "zh", "--json"))
    assert sorted(changed["text"]) == ["en", "ru"]
    assert ok_json(desk("snippet", "show", "refund_eta", "--json"))["text"]["ru"] == "Возврат по #$ticket в пути."
    assert desk("config", "export", str(tmp_path / "desk.toml")).exit_code == 0
    assert "[snippets.refund_eta]" in (tmp_path / "desk.toml").read_text(encoding="utf-8")
    assert desk("snippet", "remove", "refund_eta", "--yes").exit_code == 0
    assert desk("snippet", "list").stdout == "(none)\n"


def test_a_bad_snippet_is_refused_with_every_problem(desk):
    bad = desk("snippet", "add", "oops", "--text", "en:Hello $who <x>")
    assert bad.exit_code == 1 and "snippets.oops.text: en: $who is not a variable a snippet can use" in bad.stderr
    assert "tag <x> is not supported by Telegram" in bad.stderr
    assert desk("snippet", "add", "oops", "--text", "english").exit_code == 2
    assert desk("snippet", "show", "nope").exit_code == 1
    assert desk("snippet", "set", "nope", "--text", "en:x").exit_code == 1
    assert desk("snippet", "list").stdout == "(none)\n"
