"""Secrets in URLs and texts: every password (user-info or query, raw or percent-encoded, in a malformed URL
too) is masked where the URL is shown and taken out of messages and log records; nothing else changes."""

from __future__ import annotations

import logging
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tgesc.domain.redaction import (
    SECRET_MASK,
    RedactingFilter,
    is_secret_key,
    mask_url_password,
    redact,
    url_secrets,
)

M = SECRET_MASK


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://desk:hunter2@db.internal/tgesc", f"postgresql://desk:{M}@db.internal/tgesc"),
    ("redis://:hunter2@127.0.0.1:6379/0", f"redis://:{M}@127.0.0.1:6379/0"),
    ("postgresql://db/tgesc?password=hunter2", f"postgresql://db/tgesc?password={M}"),
    ("postgresql://db/tgesc?sslmode=require&sslpassword=hunter2&application_name=desk",
     f"postgresql://db/tgesc?sslmode=require&sslpassword={M}&application_name=desk"),
    ("postgresql://db/tgesc?pass%77ord=hunter2", f"postgresql://db/tgesc?pass%77ord={M}"),  # an encoded key
    ("postgresql://desk:s3cr%40t@db/tgesc?PASSWORD=other", f"postgresql://desk:{M}@db/tgesc?PASSWORD={M}"),
    ("postgresql://desk:p@ss@db/tgesc", f"postgresql://desk:{M}@db/tgesc"),  # a raw @: the last one ends it
    ("postgresql://desk:hun/ter2@db:5432/tgesc", f"postgresql://desk:{M}@db:5432/tgesc"),  # a raw / ? or #
    ("postgresql://desk:hun?ter2@db/tgesc?password=x", f"postgresql://desk:{M}@db/tgesc?password={M}"),
    ("redis://127.0.0.1:6379/0?token=abc#frag", f"redis://127.0.0.1:6379/0?token={M}"),  # a # kept inside
    # nothing secret: unchanged
    ("postgresql://desk@db/tgesc", "postgresql://desk@db/tgesc"),
    ("postgresql://desk:@db/tgesc", "postgresql://desk:@db/tgesc"),
    ("postgresql://db:5432/tgesc?application_name=a@b&sslmode=require",
     "postgresql://db:5432/tgesc?application_name=a@b&sslmode=require"),
    ("postgresql://[::1]:5432/tgesc", "postgresql://[::1]:5432/tgesc"),
    ("sqlite:////var/lib/tgesc/tgesc.db?synchronous=off", "sqlite:////var/lib/tgesc/tgesc.db?synchronous=off"),
    ("unix:///run/redis.sock?db=2", "unix:///run/redis.sock?db=2"),
    ("", ""),
])
def test_mask_url_password(url, shown):
    assert mask_url_password(url) == shown


@pytest.mark.parametrize(("key", "secret"), [
    ("password", True), ("sslpassword", True), ("PassWord", True), ("pwd", True), ("api_token", True),
    ("client_secret", True), ("auth", True), ("sslkey", True), ("sslmode", False), ("application_name", False),
    ("db", False), ("user", False), ("host", False), ("synchronous", False),
])
def test_secret_looking_query_keys(key, secret):
    assert is_secret_key(key) is secret


SECRET = st.text(min_size=1, max_size=30)
RAW_USER_INFO = st.text(st.characters(blacklist_characters="=", blacklist_categories=("Cs",)), min_size=1,
                        max_size=30)  # a raw `=` and a raw `/` together would read as a query: encode one
RAW_QUERY_VALUE = st.text(st.characters(blacklist_characters="&", blacklist_categories=("Cs",)), min_size=1,
                          max_size=30)
KEYS = st.sampled_from(["password", "sslpassword", "PASSWORD", "pass%77ord", "api_token", "secret"])
HOSTS = st.sampled_from(["db.internal", "127.0.0.1:5432", "[::1]:6379", "localhost"])


@given(SECRET, HOSTS)
def test_an_encoded_password_in_the_user_info_is_masked_and_nothing_else(secret, host):
    url = f"postgresql://desk:{quote(secret, safe='')}@{host}/tgesc?sslmode=require"
    assert mask_url_password(url) == f"postgresql://desk:{M}@{host}/tgesc?sslmode=require"


@given(RAW_USER_INFO, HOSTS)
def test_a_raw_password_in_the_user_info_is_masked_whatever_it_holds(secret, host):
    url = f"redis://:{secret}@{host}/0"
    assert mask_url_password(url) == f"redis://:{M}@{host}/0"


@given(KEYS, st.one_of(RAW_QUERY_VALUE, SECRET.map(quote_plus)), st.sampled_from(["", "&sslmode=require"]))
def test_a_secret_query_value_is_masked_and_nothing_else(key, value, rest):
    url = f"postgresql://db.internal:5432/tgesc?application_name=desk&{key}={value}{rest}"
    assert mask_url_password(url) == f"postgresql://db.internal:5432/tgesc?application_name=desk&{key}={M}{rest}"


@given(st.text(max_size=80))
def test_masking_never_fails_and_is_idempotent(text):
    once = mask_url_password(text)
    assert mask_url_password(once) == once


@given(st.text(min_size=3, max_size=30))
def test_url_secrets_lists_the_written_and_the_decoded_form_for_redact(secret):
    assume(secret.strip("*"))  # a secret of asterisks only is found again in the mask itself
    url = f"postgresql://desk:{quote(secret, safe='')}@db/tgesc?password={quote_plus(secret)}"
    message = f"could not connect with {secret!s} ({quote(secret, safe='')}) to db"
    assert secret not in redact(message, url_secrets(url))


def test_redact_takes_out_the_longest_first_and_ignores_tiny_values():
    assert redact("token abc-abcdef and abc", {"abc", "abc-abcdef"}) == f"token {M} and {M}"
    assert redact("a b", {"a", ""}) == "a b"  # shorter than 3: not looked for (it would garble every message)


def test_the_log_filter_takes_secrets_out_of_messages_arguments_and_tracebacks():
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Collect()
    handler.addFilter(RedactingFilter(url_secrets("postgresql://desk:hunter2@db/tgesc")))
    log = logging.getLogger("tests.redaction")
    log.addHandler(handler)
    try:
        log.warning("connecting to %s", "postgresql://desk:hunter2@db/tgesc")
        try:
            raise RuntimeError("password hunter2 refused")
        except RuntimeError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    assert len(records) == 2 and "Traceback" in records[1]
    assert all("hunter2" not in record for record in records), records
    assert f"desk:{M}@db" in records[0] and f"password {M} refused" in records[1]
