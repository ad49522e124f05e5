"""`tgesc customer list | show | ban | unban` through the real CLI entry point, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from support import cells, ok_json
from ticket_support import open_ticket

from tgesc.models import Customer, Event
from tgesc.services.config.apply import add_entry
from tgesc.services.tickets import actions

AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def customers(db) -> None:
    """ana (1001) with an open ticket and a resolved one, ben (1002) with none open, cho (1003) with none."""
    open_ticket(db, at=AT)
    actions.resolve(db, open_ticket(db, at=AT, telegram_id=1002, username="ben", first_name="Ben"), survey=False,
                    actor="bob", now=AT)
    Customer.create(telegram_id=1003, username=None, first_name="Cho", last_name="Li", created_at=AT, updated_at=AT)


def test_list_and_show(desk, db):
    assert desk("customer", "list").stdout == "(none)\n0 of 0 customers.\n"
    customers(db)
    listed = desk("customer", "list")
    assert listed.exit_code == 0, listed
    header, _, *rows, footer = listed.stdout.splitlines()
    assert cells(header) == ["id", "username", "name", "language", "tags", "tickets", "open", "banned until"]
    assert [cells(row) for row in rows] == [
        ["1001", "@ana", "Ana", "zh", "1", "1"],
        ["1002", "@ben", "Ben", "zh", "1", "0"],
        ["1003", "Cho Li", "en", "0", "0"],  # no username, no tags: empty cells are blank space
    ]
    assert footer == "3 of 3 customers."
    page = desk("customer", "list", "--limit", "2", "--json")
    assert [d["id"] for d in ok_json(page)] == [1001, 1002]
    assert page.stderr == "2 of 3 customers; next: tgesc customer list --limit 2 --json --after 1002\n"
    assert [d["id"] for d in ok_json(desk("customer", "list", "--after", "1002", "--json"))] == [1003]
    assert [d["id"] for d in ok_json(desk("customer", "list", "--all", "--json"))] == [1001, 1002, 1003]
    shown = ok_json(desk("customer", "show", "@ANA", "--json"))
    assert {k: shown[k] for k in ("id", "username", "name", "language", "timezone", "tags", "notes", "tickets",
                                  "open_tickets", "banned", "banned_until", "ban_reason")} == {
        "id": 1001, "username": "ana", "name": "Ana", "language": "zh", "timezone": "Asia/Shanghai", "tags": [],
        "notes": [], "tickets": 1, "open_tickets": 1, "banned": False, "banned_until": None, "ban_reason": ""}
    assert ok_json(desk("customer", "show", "1003", "--json"))["name"] == "Cho Li"


def test_ban_and_unban(desk, db):
    customers(db)
    banned = desk("--tz", "UTC", "customer", "ban", "1001", "--for", "7d", "--reason", "insults the staff", "--json")
    document = ok_json(banned)
    assert (document["banned"], document["ban_reason"]) == (True, "insults the staff")
    lasts = datetime.fromisoformat(document["banned_until"]) - datetime.fromisoformat(document["banned_at"])
    assert lasts.total_seconds() == 7 * 86_400
    assert "Banned customer 1001 until" in banned.stderr
    assert [d["id"] for d in ok_json(desk("customer", "list", "--banned", "--json"))] == [1001]
    forever = ok_json(desk("customer", "ban", "@ben", "--reason", "spam", "--json"))
    assert (forever["banned"], forever["banned_until"]) == (True, None)
    assert "until lifted" in desk("customer", "list", "--banned").stdout

    lifted = desk("customer", "unban", "1001", "--reason", "apologised", "--json")
    assert ok_json(lifted)["banned"] is False
    assert [d["id"] for d in ok_json(desk("customer", "list", "--banned", "--json"))] == [1002]
    audit = [(e.kind, e.actor, e.details["customer"], e.details["reason"]) for e in
             Event.select().where(Event.kind.startswith("customer.")).order_by(Event.id)]
    assert audit == [("customer.banned", "cli", 1001, "insults the staff"), ("customer.banned", "cli", 1002, "spam"),
                     ("customer.unbanned", "cli", 1001, "apologised")]


def test_the_portrait_tags_notes_zone_and_language(desk, db):
    customers(db)
    tagged = ok_json(desk("customer", "tag", "1001", "--json", "--", "+vip", "+reseller"))
    assert tagged["tags"] == ["reseller", "vip"]
    assert ok_json(desk("customer", "tag", "@ana", "--remove", "reseller", "--json"))["tags"] == ["vip"]
    noted = ok_json(desk("--tz", "UTC", "customer", "note", "1001", "Prefers email follow-ups", "--json"))
    assert [(n["text"], n["by"]) for n in noted["notes"]] == [("Prefers email follow-ups", "cli")]
    changed = ok_json(desk("customer", "set", "1002", "--tz", "new york", "--language", "ru", "--json"))
    assert (changed["timezone"], changed["language"]) == ("America/New_York", "ru")
    assert Customer.get(Customer.telegram_id == 1002).language_chosen is True
    assert "vip" in desk("customer", "list").stdout.splitlines()[2]
    audit = [(e.kind, e.details["customer"]) for e in Event.select().where(Event.kind.startswith("customer."))
             .order_by(Event.id)]
    assert audit == [("customer.tags", 1001), ("customer.tags", 1001), ("customer.note", 1001),
                     ("customer.profile", 1002)]


def test_bad_input_is_refused_without_a_traceback(desk, db):
    customers(db)
    add_entry(db, "staff", "bob", {"id": 5001, "role": "agent", "tiers": ["L1"]}, actor="test", now=AT)
    refused = {
        ("customer", "show", "9999"): (1, "no customer 9999 has written to the desk"),
        ("customer", "show", "ana"): (2, "neither a Telegram user id"),
        ("customer", "ban", "1001"): (2, "--reason"),
        ("customer", "ban", "1001", "--reason", " "): (1, "a ban needs a reason"),
        ("customer", "ban", "1001", "--for", "soon", "--reason", "x"): (2, "not a duration"),
        ("customer", "ban", "1001", "--reason", "x", "--as", "bob"): (1, "only team leads and admins may ban"),
        ("customer", "unban", "1002"): (1, "customer 1002 is not banned"),
        ("customer", "list", "--all", "--limit", "3"): (2, "--all lists every customer"),
        ("customer", "tag", "1001", "--remove", "vip"): (1, "customer 1001 has no tag 'vip'"),
        ("customer", "tag", "1001"): (2, "give the tags to change"),
        ("customer", "note", "1001", " "): (2, "the note must not be empty"),
        ("customer", "set", "1001", "--tz", "Atlantis"): (2, "no time zone or city tgesc knows"),
        ("customer", "set", "1001", "--language", "fr"): (2, "not a language of the desk"),
        ("customer", "set", "1001"): (2, "nothing to change"),
    }
    for args, (code, says) in refused.items():
        result = desk(*args)
        assert (result.exit_code, says in result.stderr, "Traceback" in result.stderr) == (code, True, False), result
    assert Customer.get(Customer.telegram_id == 1001).banned_at is None
