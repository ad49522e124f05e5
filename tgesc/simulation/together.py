"""Several stories on one desk (`tgesc simulate --together`, `--crowd`): scenarios merged into one timeline.

`together` merges scenarios into one: their customers and staff (a name two stories share must be the same
person, an id must be one person's), one configuration (the one they name, if any: two different ones need
`--config`), and their steps in the order of their instants, each marked with its story (`Step.story`, the
scenario's name, or the one a generated story gave it).

A story's ticket numbers stay its own: its `ticket = 1` is the first ticket *it* opened, whatever number the
desk gave it among the others'. `StoryTickets` keeps that translation while the desk plays: only a customer's
message or a `ticket open` command opens a ticket, so the tickets numbered after those there were before a
step are that step's story's (`learn`); before each step, `translated` gives the step with the desk's numbers:
a staff step's `ticket`, and the N of a `cli` step written `ticket VERB N ...` (which `together` requires of a
command naming a ticket; `survey` commands, which name tickets otherwise, are refused). A customer two stories
share writes to their open ticket as anyone does: it stays the story's that opened it.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Iterable, Sequence
from pathlib import Path

from tgesc.domain.scenario import Scenario, ScenarioError, Step

TICKET_VERBS_WITHOUT_NUMBER = ("open", "list", "sweep", "assign-sweep")


def together(stories: Sequence[Scenario], *, name: str, config: Path | None = None) -> Scenario:
    """One scenario playing `stories` on one desk (`config`: the configuration given instead of theirs)."""
    if not stories:
        raise ScenarioError("nothing to play together: give scenario files, or a crowd")
    _unique_names(stories)
    for story in stories:
        _check_commands(story)
    steps = [dataclasses.replace(step, story=step.story or story.name) for story in stories for step in story.steps]
    first = min(stories, key=lambda story: story.start)
    return Scenario(name=name, path=None, start=first.start, config=config or _one_config(stories),
                    customers=_people(stories, "customers"), staff=_people(stories, "staff"),
                    steps=tuple(sorted(steps, key=lambda step: step.at)),
                    description="\n\n".join(story.description for story in stories if story.description))


def _unique_names(stories: Sequence[Scenario]) -> None:
    seen: set[str] = set()
    for story in stories:
        if story.name in seen:
            raise ScenarioError(f"two scenarios are named {story.name}: played together, each story needs a name "
                                "of its own (rename one file)")
        seen.add(story.name)


def _one_config(stories: Sequence[Scenario]) -> Path | None:
    """The configuration the stories name (None: none does); two different ones cannot share a desk."""
    named = {story.config.resolve(): story for story in stories if story.config is not None}
    if len(named) > 1:
        shown = ", ".join(f"{story.name} ({story.config})" for story in named.values())
        raise ScenarioError(f"stories played together share one desk and one configuration, but {shown} name "
                            "different ones: give the one to use with --config")
    return next(iter(named.values())).config if named else None


def _people(stories: Sequence[Scenario], section: str) -> dict:
    """The customers (or staff) of every story: a name used twice must be the same person, an id one person's."""
    people: dict = {}
    owners: dict[int, tuple[str, str]] = {}
    for story in stories:
        for key, person in getattr(story, section).items():
            if key in people and people[key] != person:
                raise ScenarioError(f"{story.name}: field '{section}.{key}': another story has a {section} entry "
                                    f"named {key!r} that is not the same person; rename one of them")
            people[key] = person
            owner = owners.setdefault(person.id, (key, story.name))
            if owner[0] != key:
                raise ScenarioError(f"{story.name}: field '{section}.{key}.id': {person.id} is already "
                                    f"{owner[0]}'s id in {owner[1]}; ids must be unique on one desk")
    return people


def _check_commands(story: Scenario) -> None:
    """A story's command lines name its tickets where `StoryTickets` can translate them, or none."""
    for step in story.steps:
        words = step.cli or ()
        if words[:1] == ("survey",):
            raise ScenarioError(f"{story.name}: step {step.number}: field 'cli': `tgesc survey` commands are not "
                                "translated to the desk's ticket numbers when stories are played together; play "
                                "this scenario on its own")
        if words[:1] == ("ticket",) and len(words) > 1 and words[1] not in TICKET_VERBS_WITHOUT_NUMBER \
                and not (len(words) > 2 and words[2].isascii() and words[2].isdigit()):
            raise ScenarioError(f"{story.name}: step {step.number}: field 'cli': played together, a ticket command "
                                f"names its ticket right after the verb (`ticket {words[1]} N ...`), so that N can "
                                "be translated to the desk's number")


class StoryTickets:
    """Each story's tickets, in the order it opened them: the desk's numbers."""

    def __init__(self) -> None:
        self.opened: dict[str, list[int]] = {}
        self.last = 0  # the highest ticket number seen

    def learn(self, step: Step, numbers: Iterable[int]) -> None:
        """The tickets numbered `numbers` (all above `last`) were opened by `step`: its story's."""
        found = list(numbers)
        if step.story is not None:
            self.opened.setdefault(step.story, []).extend(found)
        self.last = max([self.last, *found])

    def translated(self, step: Step) -> Step:
        """`step` with its story's ticket numbers made the desk's (ScenarioError: the story has no such ticket)."""
        if step.story is None:
            return step
        if step.ticket is not None:
            return dataclasses.replace(step, ticket=self._number(step, step.ticket, "ticket"))
        words = step.cli or ()
        if words[:1] == ("ticket",) and len(words) > 2 and words[2].isascii() and words[2].isdigit():
            words = (*words[:2], str(self._number(step, int(words[2]), "cli")), *words[3:])
            return dataclasses.replace(step, cli=words, cli_line=shlex.join(words))
        return step

    def _number(self, step: Step, local: int, field: str) -> int:
        opened = self.opened.get(step.story or "", [])
        if not 1 <= local <= len(opened):
            raise ScenarioError(f"{step.story}: step {step.number}: field '{field}': this story has no ticket "
                                f"#{local} at this point (it has opened {len(opened)})")
        return opened[local - 1]
