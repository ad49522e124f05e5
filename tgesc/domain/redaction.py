"""Secrets inside connection URLs and texts, found and hidden (invariant 7: no secret in output, logs or errors).

A URL carries a password in its user-info (`postgresql://desk:PASSWORD@host/db`, `redis://:PASSWORD@host`) or in
its query (`?password=...`, `?sslpassword=...`: any key that looks secret), raw or percent-encoded.
`mask_url_password` shows a URL with each such value replaced by `********`. It reads a URL the forgiving way:
a malformed one, whose password holds a `/`, `?` or `#` the URL parsers stop at, is masked up to its `@` too.
`url_secrets` lists the same values (as written and decoded) so that `redact` can take them out of any text,
such as a driver's error message; `RedactingFilter` does that to every log record a handler writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import unquote, unquote_plus

if TYPE_CHECKING:
    import logging

SECRET_MASK = "********"
SECRET_KEY_WORDS = ("pass", "pwd", "secret", "token", "auth", "key", "credential")
MIN_SECRET_LENGTH = 3  # shorter values are not taken out of texts: they would garble every message
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")


def mask_url_password(url: str) -> str:
    """`url` with every password (user-info, secret-looking query values) replaced by `********`."""
    for start, end in reversed(_secret_spans(url)):
        url = url[:start] + SECRET_MASK + url[end:]
    return url


def url_secrets(url: str) -> set[str]:
    """The secret values `url` carries, as written and percent-decoded (those long enough to look for)."""
    found: set[str] = set()
    for start, end in _secret_spans(url):
        raw = url[start:end]
        found.update({raw, unquote(raw), unquote_plus(raw)})
    return {value for value in found if len(value) >= MIN_SECRET_LENGTH}


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with each of `secrets` (the longest first) replaced by `********`."""
    for secret in sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True):
        text = text.replace(secret, SECRET_MASK)
    return text


def is_secret_key(name: str) -> bool:
    """Whether a query parameter's (decoded) name looks like it holds a secret: password, sslpassword, token ..."""
    lowered = name.lower()
    return any(word in lowered for word in SECRET_KEY_WORDS)


def _secret_spans(url: str) -> list[tuple[int, int]]:
    """Where the secrets of `url` are: (start, end) offsets, in order, not overlapping."""
    scheme = _SCHEME.match(url)
    authority = scheme.end() if scheme else 0
    spans = []
    at = _user_info_end(url, authority)
    if at >= 0:
        colon = url.find(":", authority, at)
        if 0 <= colon < at - 1:
            spans.append((colon + 1, at))
    question = url.find("?", max(at, authority))
    if question >= 0:
        spans.extend(_query_spans(url, question + 1))
    return spans


def _user_info_end(url: str, authority: int) -> int:
    """The offset of the `@` ending the user-info, or -1. Normally the last `@` before the first `/`, `?` or `#`;
    when the host part has a `:` and an `@` follows later, before any `=` (so not in a query value), the password
    held one of those characters: the user-info ends at the last such `@`."""
    ends = [i for i in (url.find(c, authority) for c in "/?#") if i >= 0]
    host_end = min(ends, default=len(url))
    at = url.rfind("@", authority, host_end)
    if at >= 0:
        return at
    equals = url.find("=", host_end)
    limit = equals if equals >= 0 else len(url)
    later = url.rfind("@", host_end, limit)
    return later if later >= 0 and url.find(":", authority, host_end) >= 0 else -1


def _query_spans(url: str, start: int) -> list[tuple[int, int]]:
    """The values of secret-looking keys in the query that begins at `start` (up to the end: a `#` in a
    password is kept in the span)."""
    spans = []
    position = start
    for part in url[start:].split("&"):
        key, equals, value = part.partition("=")
        if equals and value and is_secret_key(unquote_plus(key)):
            value_start = position + len(key) + 1
            spans.append((value_start, value_start + len(value)))
        position += len(part) + 1
    return spans


class RedactingFilter:
    """A log handler's filter (`handler.addFilter`) that takes `secrets` out of each record's message and traceback
    before it is written. (Not a `logging.Filter` subclass: importing logging costs every command its start-up.)"""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        record.msg, record.args = redact(record.getMessage(), self.secrets), None
        if record.exc_info and not record.exc_text:
            import logging

            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True
