"""No secret ever shown: a hostile corpus of database and Redis URLs carrying passwords (user-info, query,
percent-encoded, malformed, both) through `config show` (table and --json), the exit-69 path of an unreachable
PostgreSQL or Redis, a URL the driver refuses (exit 78), and a worker's log lines."""

from __future__ import annotations

import json

import pytest

from tgesc.domain.redaction import SECRET_MASK

# (URL, the secrets in it) of servers that do not answer (port 1): every form a password can take
DATABASE_URLS = [
    ("postgresql://desk:hunter2@127.0.0.1:1/tgesc", ["hunter2"]),
    ("postgresql://127.0.0.1:1/tgesc?password=hunter2", ["hunter2"]),
    ("postgresql://127.0.0.1:1/tgesc?sslmode=disable&password=hunter2&application_name=desk", ["hunter2"]),
    ("postgresql://desk@127.0.0.1:1/tgesc?sslpassword=key-unlock-77", ["key-unlock-77"]),
    ("postgresql://127.0.0.1:1/tgesc?pass%77ord=hunter2", ["hunter2"]),
    ("postgres://desk:s3cr%40t%2Fx@127.0.0.1:1/tgesc", ["s3cr%40t%2Fx", "s3cr@t/x"]),
    ("postgresql://desk:user-info-pw@127.0.0.1:1/tgesc?password=query-pw", ["user-info-pw", "query-pw"]),
    ("postgresql://desk:p@ss@word@127.0.0.1:1/tgesc", ["p@ss@word"]),
    ("postgresql://desk:hun/ter2@127.0.0.1:1/tgesc", ["hun/ter2", "hun"]),  # malformed: exit 78
    ("postgresql://desk:hun?ter2@127.0.0.1:1/tgesc", ["hun?ter2", "hun"]),
    ("postgresql://desk:hun#ter2@127.0.0.1:1/tgesc", ["hun#ter2", "hun"]),
    ("postgresql://desk:12345678@127.0.0.1:99999/tgesc", ["12345678"]),  # a port out of range: exit 78
    ("postgresql://127.0.0.1:1/tgesc?secret_token=hunter2", ["hunter2"]),  # refused by libpq: exit 78
]
REDIS_URLS = [
    ("redis://:hunter2@127.0.0.1:1/0", ["hunter2"]),
    ("redis://desk:hunter2@127.0.0.1:1/0", ["hunter2"]),
    ("redis://127.0.0.1:1/0?password=hunter2", ["hunter2"]),
    ("rediss://:s3cr%40t%2Fx@127.0.0.1:1/0", ["s3cr%40t%2Fx", "s3cr@t/x"]),
    ("redis://:hun/ter2@127.0.0.1:1/0", ["hun/ter2", "hun"]),
    ("redis://:hun?ter2@127.0.0.1:1/0?password=query-pw", ["hun?ter2", "query-pw"]),
    ("redis://127.0.0.1:1/0?secret_token=hunter2", ["hunter2"]),  # an option redis-py does not take: exit 78
    ("redis:hunter2@127.0.0.1:1/0", ["hunter2"]),  # no //: refused by the settings check
]


def no_secret(result, secrets: list[str]) -> None:
    """No secret in either stream, no traceback, an exit code DESIGN.md knows."""
    shown = result.stdout + result.stderr
    assert result.exit_code in (0, 1, 69, 78), result
    assert "Traceback" not in shown, result
    for secret in secrets:
        assert secret not in shown, (secret, str(result))


@pytest.mark.parametrize(("url", "secrets"), DATABASE_URLS + REDIS_URLS, ids=lambda v: str(v)[:60])
def test_config_show_masks_every_password_in_a_url(cli, url, secrets):
    setting = "TGESC_REDIS_URL" if url.startswith("redis") else "TGESC_DATABASE_URL"
    for args in (["config", "show"], ["config", "show", "--json"]):
        result = cli(*args, env={setting: url})
        no_secret(result, secrets)
        if result.exit_code == 0:
            assert SECRET_MASK in result.stdout, result
        else:  # a malformed URL: the invalid-settings message, masked too
            assert result.exit_code == 78 and SECRET_MASK in result.stderr and setting in result.stderr, result


def test_config_show_json_has_the_masked_url(cli):
    url = "postgresql://desk:hunter2@db.internal/tgesc?sslmode=require&password=other"
    result = cli("config", "show", "--json", env={"TGESC_DATABASE_URL": url})
    assert result.exit_code == 0, result
    rows = {row["setting"]: row for row in json.loads(result.stdout)}
    shown = f"postgresql://desk:{SECRET_MASK}@db.internal/tgesc?sslmode=require&password={SECRET_MASK}"
    assert rows["database_url"]["value"] == shown


@pytest.mark.postgres
@pytest.mark.parametrize(("url", "secrets"), DATABASE_URLS, ids=lambda v: str(v)[:60])
def test_an_unreachable_or_refused_database_never_shows_its_password(cli, url, secrets):
    result = cli("tier", "list", env={"TGESC_DATABASE_URL": url})
    no_secret(result, secrets)
    assert result.exit_code in (69, 78) and result.stderr.startswith("Error: "), result


def test_the_unreachable_database_message_keeps_the_masked_url_and_the_reason(cli):
    result = cli("ticket", "list", env={"TGESC_DATABASE_URL": "postgresql://127.0.0.1:1/tgesc?password=hunter2"})
    assert result.exit_code == 69, result
    assert f"postgresql://127.0.0.1:1/tgesc?password={SECRET_MASK}" in result.stderr
    assert "Connection refused" in result.stderr and "hunter2" not in result.stderr


def test_a_connection_option_the_driver_refuses_is_a_configuration_error(cli):
    result = cli("tier", "list", env={"TGESC_DATABASE_URL": "postgresql://127.0.0.1:1/tgesc?secret_token=hunter2"})
    assert result.exit_code == 78, result
    assert 'invalid connection option "secret_token"' in result.stderr and "hunter2" not in result.stderr


@pytest.mark.parametrize(("url", "secrets"), REDIS_URLS, ids=lambda v: str(v)[:60])
def test_an_unreachable_redis_never_shows_its_password(cli, url, secrets):
    assert cli("init", "--quiet").exit_code == 0
    result = cli("worker", "run", "--burst", env={"TGESC_REDIS_URL": url})
    no_secret(result, secrets)
    assert result.exit_code in (69, 78) and "Error: " in result.stderr, result


def test_a_password_redis_refuses_is_exit_69_and_absent_from_the_workers_output(tgesc_bin, redis_url):
    """The real Redis has no password: AUTH fails. Through a real process, so its log lines are seen too."""
    assert tgesc_bin(["init", "--quiet"]).returncode == 0
    wrong = redis_url.replace("redis://", "redis://nobody:hunter2-wrong@", 1)
    process = tgesc_bin(["worker", "run", "--burst"], env={"TGESC_REDIS_URL": wrong, "TGESC_LOG_LEVEL": "DEBUG"})
    assert process.returncode == 69, process.stderr
    assert "hunter2-wrong" not in process.stdout + process.stderr
    assert f"redis://nobody:{SECRET_MASK}@" in process.stderr


def test_a_redis_url_the_bot_cannot_be_woken_through_only_warns_after_the_change(cli):
    """The CLI wakes the bot after its change is committed: a Redis URL redis-py refuses there is a warning
    (masked), not an error about a change that was made."""
    assert cli("init", "--quiet").exit_code == 0
    url = "redis://:hunter2@127.0.0.1:6379/15?bogus_option=1"
    assert cli("ticket", "open", "--customer", "42", "--text", "my parcel never came").exit_code == 0
    opened = cli("ticket", "escalate", "1", "--quick", "--reason", "courier", env={"TGESC_REDIS_URL": url})
    assert opened.exit_code == 0, opened
    assert f"Warning: Redis at redis://:{SECRET_MASK}@127.0.0.1:6379/15?bogus_option=1 does not answer" in opened.stderr
    assert "hunter2" not in opened.stdout + opened.stderr
