"""The error types every layer raises, each carrying the process exit code DESIGN.md assigns to it.

0 ok, 1 domain error, 2 usage error, 69 dependency unavailable (DB, Redis), 78 configuration error.
The CLI turns any of them into one `Error: ...` message on stderr and that exit code.
"""

from __future__ import annotations


class TgescError(Exception):
    """Base class: a user-facing failure with a message that says what, why and how to fix."""

    exit_code = 1

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])

    def render(self) -> str:
        """The full message: the summary, then one indented line per problem."""
        lines = [str(self)]
        lines.extend(f"  - {problem}" for problem in self.problems)
        return "\n".join(lines)


class DomainError(TgescError):
    """The request is well-formed but not allowed or not possible (unknown ticket, bad transition)."""

    exit_code = 1


class NotFound(DomainError):
    """A named object (tier, calendar, staff member, ...) does not exist."""


class NotPermitted(DomainError):
    """The acting staff member may not do this (not active, or not staff of the ticket's tier)."""


class UsageError(TgescError):
    """The command line itself is wrong (malformed value, conflicting options)."""

    exit_code = 2


class DependencyUnavailable(TgescError):
    """The database or Redis cannot be reached."""

    exit_code = 69


class ConfigInvalid(TgescError):
    """Settings or an escalation configuration file are invalid; `problems` lists every one found."""

    exit_code = 78
