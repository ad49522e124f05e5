"""`tgesc rule ...`: trigger rules — sensitive words, repeated requests, unresolved-for, emotion, "urgent".

A rule has a kind (what fires it), per-language phrases, and actions: tags, a raised priority, an
escalation tier and a reply template. Rules are evaluated by position, then name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import typer

from tgesc.cli.edits import edit_cmd
from tgesc.cli.entries import (
    AS_OPTION,
    DRY_RUN_OPTION,
    YES_OPTION,
    add_cmd,
    duration,
    list_cmd,
    remove_cmd,
    show_cmd,
)
from tgesc.cli.output import JSON_OPTION
from tgesc.cli.parsing import choice, choices_metavar, language_text, phrase_table, whole_number
from tgesc.cli.sweeping import ONCE_OPTION, sweep_once
from tgesc.domain.limits import COUNT, POSITION
from tgesc.domain.vocabulary import EMOTIONS, PRIORITIES, RULE_KINDS

app = typer.Typer(help="Trigger rules: what makes a ticket tagged, raised, escalated or answered.",
                  no_args_is_help=True)
SECTION = "rules"
NAME = typer.Argument(..., help="Rule name, e.g. refund.")
Kind = Literal[RULE_KINDS]
Priority = Literal[PRIORITIES]
LANGUAGE_ORDER = ("en", "zh", "ru")


def _phrase_or_empty(value: str) -> tuple[str, str] | str:
    return value if value == "" else language_text(value)


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List rules in evaluation order with what fires them and what they do.

    Examples:

      tgesc rule list

      tgesc rule list --json | jq -r 'to_entries[] | select(.value.enabled | not) | .key'
    """
    list_cmd(SECTION, as_json, summary)


def summary(entries: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rules in evaluation order: what fires each and what it does."""
    ordered = sorted(entries.items(), key=lambda item: (item[1].get("position", 0), item[0]))
    return [{"rule": name, "kind": e["kind"], "enabled": e.get("enabled", True), "position": e.get("position", 0),
             "when": trigger_summary(e), "actions": action_summary(e),
             "phrases": phrase_counts(e.get("phrases", {}))} for name, e in ordered]


def action_summary(entry: Mapping[str, Any]) -> str:
    """E.g. `tags billing,refund · priority high · escalate L2 · reply comfort`."""
    parts = []
    if entry.get("tags"):
        parts.append("tags " + ",".join(entry["tags"]))
    if entry.get("priority"):
        parts.append(f"priority {entry['priority']}")
    if entry.get("escalate_to"):
        parts.append(f"escalate {entry['escalate_to']}")
    if entry.get("reply"):
        parts.append(f"reply {entry['reply']}")
    return " · ".join(parts)


def trigger_summary(entry: Mapping[str, Any]) -> str:
    """What, besides phrases, fires the rule: `3 in a row`, `after 15m`, `angry,threatening`."""
    if entry.get("count"):
        return f"{entry['count']} in a row"
    if entry.get("after"):
        return f"after {entry['after']}"
    return ",".join(entry.get("emotions") or [])


def phrase_counts(phrases: Mapping[str, list[str]]) -> str:
    """E.g. `en 5, zh 5, ru 5` (en, zh, ru first, then other languages alphabetically)."""
    order = sorted(phrases, key=lambda lang: (LANGUAGE_ORDER.index(lang) if lang in LANGUAGE_ORDER else 99, lang))
    return ", ".join(f"{lang} {len(phrases[lang])}" for lang in order)


@app.command("show")
def show(name: str = NAME, as_json: bool = JSON_OPTION) -> None:
    """Show one rule.

    Example:

      tgesc rule show refund --json
    """
    show_cmd(SECTION, name, as_json)


PHRASE_HELP = "LANG:TEXT, e.g. en:refund or zh:退款 (repeatable)"
EMOTION_METAVAR = choices_metavar(EMOTIONS)


@app.command("add")
def add(
    name: str = NAME,
    kind: Kind = typer.Option(..., "--kind", help="What fires the rule."),
    phrases: list[str] = typer.Option(None, "--phrase", parser=language_text, metavar="LANG:TEXT",
                                      help=f"Phrase to match, {PHRASE_HELP}."),
    tags: list[str] = typer.Option(None, "--tag", help="Tag added to the ticket (repeatable)."),
    priority: Priority = typer.Option(None, "--priority", help="Priority the ticket is raised to."),
    escalate_to: str = typer.Option(None, "--escalate-to", help="Tier the ticket is escalated to."),
    reply: str = typer.Option(None, "--reply", help="Template key sent to the customer, e.g. comfort."),
    count: int = typer.Option(None, "--count", parser=whole_number(COUNT), metavar="N",
                              help="repeated-request: consecutive messages needed."),
    after: str = typer.Option(None, "--after", parser=duration, help="unresolved-for: how long, e.g. 15m."),
    emotions: list[str] = typer.Option(None, "--emotion", parser=choice(EMOTIONS), metavar=EMOTION_METAVAR,
                                       help="emotion: an assessment that fires the rule (repeatable)."),
    position: int = typer.Option(None, "--position", parser=whole_number(POSITION), metavar="N",
                                 help="Evaluation order, ascending (default 0)."),
    disabled: bool = typer.Option(False, "--disabled", help="Add it switched off."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a rule.

    Examples:

      tgesc rule add chargeback --kind keyword --phrase en:chargeback --phrase zh:拒付 --tag billing
      --priority high --escalate-to L2 --reply comfort

      tgesc rule add stuck-30m --kind unresolved-for --after 30m --escalate-to L3

      tgesc rule add furious --kind emotion --emotion angry --emotion threatening --priority urgent
    """
    add_cmd(SECTION, name, {
        "kind": kind, "enabled": False if disabled else None, "position": position,
        "phrases": phrase_table(phrases), "tags": tags or None, "priority": priority,
        "escalate_to": escalate_to, "reply": reply, "count": count, "after": after or None,
        "emotions": emotions or None}, as_, as_json)


def _list_or_empty(values: list[str] | None) -> list[str] | None:
    """A repeatable option that replaces a list: not given → None, `--x ''` → []."""
    if not values:
        return None
    return [v for v in values if v != ""]


@app.command("set")
def set_(
    name: str = NAME,
    kind: Kind = typer.Option(None, "--kind", help="What fires the rule."),
    phrases: list[str] = typer.Option(None, "--phrase", parser=_phrase_or_empty, metavar="LANG:TEXT",
                                      help=f"Replace all phrases, {PHRASE_HELP}; --phrase '' clears them."),
    add_phrases: list[str] = typer.Option(None, "--add-phrase", parser=language_text, metavar="LANG:TEXT",
                                          help=f"Add a phrase, {PHRASE_HELP}."),
    remove_phrases: list[str] = typer.Option(None, "--remove-phrase", parser=language_text, metavar="LANG:TEXT",
                                             help=f"Remove a phrase, {PHRASE_HELP}."),
    tags: list[str] = typer.Option(None, "--tag", help="Replace the tags (repeatable); --tag '' clears them."),
    add_tags: list[str] = typer.Option(None, "--add-tag", help="Add a tag (repeatable)."),
    remove_tags: list[str] = typer.Option(None, "--remove-tag", help="Remove a tag (repeatable)."),
    priority: str = typer.Option(None, "--priority", parser=choice(PRIORITIES, allow_empty=True),
                                 metavar=choices_metavar(PRIORITIES), help="Priority raised to; '' unsets it."),
    escalate_to: str = typer.Option(None, "--escalate-to", help="Tier escalated to; '' unsets it."),
    reply: str = typer.Option(None, "--reply", help="Template key of the reply; '' unsets it."),
    count: str = typer.Option(None, "--count", parser=whole_number(COUNT, allow_empty=True), metavar="N",
                              help="repeated-request: consecutive messages; '' unsets it."),
    after: str = typer.Option(None, "--after", parser=duration, help="unresolved-for: how long; '' unsets it."),
    emotions: list[str] = typer.Option(None, "--emotion", parser=choice(EMOTIONS, allow_empty=True),
                                       metavar=EMOTION_METAVAR,
                                       help="Replace the emotions (repeatable); --emotion '' clears them."),
    position: int = typer.Option(None, "--position", parser=whole_number(POSITION), metavar="N",
                                 help="Evaluation order, ascending."),
    enabled: bool = typer.Option(None, "--enabled/--disabled", help="Switch the rule on or off."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change fields of a rule; options not given stay as they are, '' unsets a field.

    Examples:

      tgesc rule set refund --add-phrase en:"want my money back" --remove-phrase ru:чарджбэк

      tgesc rule set refund --priority urgent --reply ''

      tgesc rule set unresolved-15m --after 20m
    """
    edit_cmd(SECTION, name, {
        "kind": kind, "enabled": enabled, "position": position, "phrases": phrase_table(phrases),
        "tags": _list_or_empty(tags), "priority": priority, "escalate_to": escalate_to, "reply": reply,
        "count": count, "after": after, "emotions": _list_or_empty(emotions)}, as_, as_json,
        add=[(("phrases", lang), text) for lang, text in add_phrases or []]
        + [(("tags",), tag) for tag in add_tags or []],
        discard=[(("phrases", lang), text) for lang, text in remove_phrases or []]
        + [(("tags",), tag) for tag in remove_tags or []])


@app.command("enable")
def enable(name: str = NAME, as_: str = AS_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Switch a rule on.

    Example:

      tgesc rule enable refund
    """
    edit_cmd(SECTION, name, {"enabled": True}, as_, as_json)


@app.command("disable")
def disable(name: str = NAME, as_: str = AS_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Switch a rule off (it stays configured; `tgesc rule enable` brings it back).

    Example:

      tgesc rule disable outage
    """
    edit_cmd(SECTION, name, {"enabled": False}, as_, as_json)


@app.command("remove")
def remove(name: str = NAME, as_: str = AS_OPTION, yes: bool = YES_OPTION, dry_run: bool = DRY_RUN_OPTION) -> None:
    """Remove a rule.

    Example:

      tgesc rule remove outage --yes
    """
    remove_cmd(SECTION, name, as_, yes, dry_run)


@app.command("sweep")
def sweep(
    once: bool = ONCE_OPTION,
    dry_run: bool = DRY_RUN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Fire the unresolved-for rules that are due now: once.

    An unresolved-for rule fires on a ticket still open that long after it opened (or was reopened):
    tags, a raised priority, an escalation. Customer messages fire the other rules as they arrive; time
    fires these, in the sweep `tgesc worker cron` runs every few seconds. This runs it now, for cron or
    a systemd timer, or to look (--dry-run). Prints one row per ticket a rule fired on: ticket,
    priority, rules, the tier it was escalated to.

    Examples:

      tgesc rule sweep --once --dry-run

      tgesc rule sweep --once --json
    """
    from tgesc.cli.output import info
    from tgesc.services.sweeps.sla import sweep_unresolved

    done = sweep_once(sweep_unresolved, once=once, dry_run=dry_run, as_json=as_json,
                      columns=["ticket", "priority", "rules", "escalated_to", "due"])
    verb = "would fire" if dry_run else "fired"
    info(f"Rule sweep{' (dry run)' if dry_run else ''}: rules {verb} on {len(done)} ticket(s)."
         if done else "Rule sweep: nothing fired.")
