"""Settings: precedence (flag > environment > .env > default), sources, masking, validation (exit 78)."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tgesc.domain.errors import ConfigInvalid
from tgesc.domain.rates import Rate
from tgesc.settings import MAX_SWEEP_BATCH, SPECS, load_settings


def write_env(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.env"
    path.write_text(text, encoding="utf-8")
    return path


def test_precedence_flag_env_dotenv_default(tmp_path):
    env_file = write_env(tmp_path, "TGESC_TIMEZONE=Asia/Shanghai\nTGESC_ACTOR=from-dotenv\nTGESC_LOG_LEVEL=DEBUG\n")
    environ = {"HOME": str(tmp_path), "TGESC_TIMEZONE": "Europe/Moscow", "TGESC_ACTOR": "from-env"}
    settings = load_settings({"timezone": "America/New_York"}, environ=environ, env_file=env_file)
    assert settings.values["timezone"].value == "America/New_York"
    assert settings.values["timezone"].source == "flag"
    assert (settings.get("actor"), settings.values["actor"].source) == ("from-env", "env")
    assert (settings.get("log_level"), settings.values["log_level"].source) == ("DEBUG", f".env ({env_file})")
    assert settings.values["redis_url"].source == "default"


def test_default_home_follows_xdg_and_database_lives_in_it(tmp_path):
    settings = load_settings({}, environ={"XDG_DATA_HOME": str(tmp_path / "xdg")})
    assert settings.home == tmp_path / "xdg" / "tgesc"
    assert settings.database_url == f"sqlite:///{tmp_path / 'xdg' / 'tgesc' / 'tgesc.db'}"
    moved = load_settings({}, environ={"TGESC_HOME": str(tmp_path / "h")})
    assert moved.database_url == f"sqlite:///{tmp_path / 'h' / 'tgesc.db'}"


def test_every_invalid_setting_is_listed_at_once(tmp_path):
    env_file = write_env(tmp_path, "TGESC_API_ID=abc\nTGESC_COLOUR=red\n")
    environ = {"TGESC_DATABASE_URL": "mysql://db/x", "TGESC_REDIS_URL": "http://x"}
    with pytest.raises(ConfigInvalid) as caught:
        load_settings({"timezone": "Mars/Olympus"}, environ=environ, env_file=env_file)
    text = caught.value.render()
    assert caught.value.exit_code == 78
    assert len(caught.value.problems) == 5, text
    for expected in ("unknown setting TGESC_COLOUR", "TGESC_API_ID=abc", "TGESC_DATABASE_URL=mysql://db/x",
                     "TGESC_REDIS_URL=http://x", "--tz Mars/Olympus (from flag): unknown time zone"):
        assert expected in text


def test_require_names_each_missing_setting(tmp_path):
    settings = load_settings({}, environ={"TGESC_API_ID": "1"})
    with pytest.raises(ConfigInvalid) as caught:
        settings.require("api_id", "api_hash", "bot_token", purpose="the bot worker")
    assert caught.value.problems == ["TGESC_API_HASH is not set", "TGESC_BOT_TOKEN is not set"]


def test_config_show_masks_secrets_and_passwords(cli, tmp_path):
    env_file = write_env(tmp_path, "TGESC_BOT_TOKEN=123456:SECRET-token\n")
    result = cli("config", "show", "--json", env={
        "TGESC_ENV_FILE": str(env_file), "TGESC_API_HASH": "deadbeefcafe",
        "TGESC_DATABASE_URL": "postgresql://desk:hunter2@db.internal/tgesc"})
    assert result.exit_code == 0, result
    rows = {row["setting"]: row for row in json.loads(result.stdout)}
    assert rows["bot_token"] == {"setting": "bot_token", "env": "TGESC_BOT_TOKEN", "value": "********",
                                 "source": f".env ({env_file})"}
    assert rows["api_hash"]["value"] == "********" and rows["api_hash"]["source"] == "env"
    assert rows["database_url"]["value"] == "postgresql://desk:********@db.internal/tgesc"
    for secret in ("SECRET-token", "deadbeefcafe", "hunter2"):
        assert secret not in result.stdout + result.stderr


def test_invalid_settings_exit_78_with_one_message(cli):
    result = cli("--tz", "Nowhere/City", "tier", "list", env={"TGESC_REDIS_URL": "ftp://x"})
    assert result.exit_code == 78, result
    assert result.stderr.startswith("Error: invalid settings:")
    assert result.stderr.count("\n  - ") == 2
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_unreachable_database_exits_69_without_leaking_the_password(cli):
    result = cli("tier", "list", env={"TGESC_DATABASE_URL": "postgresql://desk:hunter2@127.0.0.1:1/tgesc"})
    assert result.exit_code == 69, result
    assert "hunter2" not in result.stderr and "postgresql://desk:********@127.0.0.1:1/tgesc" in result.stderr


def test_commands_refuse_an_unmigrated_database(cli):
    result = cli("tier", "list")
    assert result.exit_code == 78, result
    assert "tgesc init" in result.stderr and "tgesc db upgrade" in result.stderr


@pytest.mark.parametrize(("value", "batch"), [("100", 100), ("1", 1), ("10000", 10_000), ("0", None),
                                              ("10001", None), ("-5", None), ("1e3", None), ("ten", None)])
def test_the_sweep_batch_is_a_whole_number_from_1_to_10000(tmp_path, value, batch):
    environ = {"HOME": str(tmp_path), "TGESC_SWEEP_BATCH": value}
    if batch is None:
        with pytest.raises(ConfigInvalid) as caught:
            load_settings(environ=environ)
        assert "TGESC_SWEEP_BATCH" in str(caught.value.problems) and "1 to 10,000" in str(caught.value.problems)
    else:
        assert load_settings(environ=environ).sweep_batch == batch
    assert load_settings(environ={"HOME": str(tmp_path)}).sweep_batch == 100


def test_desk_rates_have_defaults_and_are_checked(tmp_path):
    """(The reopen window is no setting any more: it is the escalation config's [lifecycle] close_after.)"""
    settings = load_settings(environ={"HOME": str(tmp_path)})
    assert settings.seconds("lifecycle_sweep_every") == settings.seconds("assignment_sweep_every") == 60
    assert [settings.rate(n) for n in ("flood_limit", "send_rate", "chat_rate", "group_rate")] == [
        Rate(20, 60), Rate(25, 1), Rate(1, 1), Rate(20, 60)]
    with pytest.raises(ConfigInvalid) as caught:
        load_settings(environ={"HOME": str(tmp_path), "TGESC_SEND_RATE": "40", "TGESC_LIFECYCLE_SWEEP_EVERY": "soon"})
    assert len(caught.value.problems) == 2


@pytest.mark.parametrize(("url", "problem"), [
    ("sqlite:///{dir}/x.db?sync=off", "unknown SQLite option 'sync'"),
    ("sqlite:///{dir}/x.db?synchronous=sometimes", "synchronous='sometimes'; use off, normal or full"),
    ("sqlite://x.db", "a SQLite URL looks like sqlite:////abs/path.db"),
])
def test_a_sqlite_url_takes_only_the_synchronous_option(tmp_path, url, problem):
    with pytest.raises(ConfigInvalid) as caught:
        load_settings({"database_url": url.format(dir=tmp_path)}, environ={})
    assert problem in caught.value.render()


@pytest.mark.parametrize(("option", "pragma"), [("", 1), ("?synchronous=off", 0), ("?synchronous=FULL", 2)])
def test_the_synchronous_option_reaches_every_connection(tmp_path, option, pragma):
    from tgesc.db import open_database

    db = open_database(f"sqlite:///{tmp_path / 'desk.db'}{option}", create=True)
    try:
        assert db.execute_sql("PRAGMA synchronous").fetchone()[0] == pragma  # 0 off, 1 normal, 2 full
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert (tmp_path / "desk.db").exists()  # the option is not part of the file's name
    finally:
        db.close()


@pytest.mark.parametrize("token", ["123456789AAE-zq9", "abc:zq9", "123:", ":zq9", "123:zq9 x", "123:zq9\n",
                                   "１２３:zq9"])
def test_a_bot_token_of_the_wrong_shape_is_refused_without_showing_it(tmp_path, token):
    with pytest.raises(ConfigInvalid) as caught:
        load_settings({}, environ={"TGESC_BOT_TOKEN": token})
    rendered = caught.value.render()
    assert "TGESC_BOT_TOKEN=" in rendered and "********" in rendered and "zq9" not in rendered
    assert "not a bot token" in rendered or "U+000A" in rendered


def test_a_bot_token_of_botfathers_shape_is_taken(tmp_path):
    token = "7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw_-"
    assert load_settings({}, environ={"TGESC_BOT_TOKEN": token}).get("bot_token") == token


HOSTILE_SETTINGS = ["", " ", "١", "-1", "0", "99999999999999999999", "99999999d", "366d", "0s", "x" * 5000,
                    "a\x01b", "\udcff", "25:00-26:00", "10:00-09:00", "0/0s", "1/0s", "١/1m", "99999999999999999999/1s",
                    "file:", "file:/nonexistent", "America", "Mars/Olympus", "UTC", "mysql://x/y", "sqlite://x",
                    "redis://", "L1 L2", "DEBUG", "24h", "49h", "10:00-20:00", "L2"]


@given(st.sampled_from([spec.env for spec in SPECS]), st.sampled_from(HOSTILE_SETTINGS) | st.text(max_size=12))
def test_a_hostile_setting_is_refused_or_usable(name, value):
    """Whatever a setting holds: ConfigInvalid (exit 78), or settings whose every value can be used."""
    assume("\0" not in value)  # an environment variable cannot hold NUL
    try:
        settings = load_settings(environ={name: value})
    except ConfigInvalid as refused:
        assert refused.exit_code == 78 and refused.problems
        return
    assert settings.seconds("lifecycle_sweep_every") > 0
    assert [settings.rate(n) for n in ("flood_limit", "send_rate", "chat_rate", "group_rate")]
    assert settings.survey_policy is not None
    assert all(settings.seconds(n) > 0 for n in ("sla_sweep_every", "assignment_sweep_every", "relay_every",
                                                 "cron_lock_ttl"))
    assert 1 <= settings.sweep_batch <= MAX_SWEEP_BATCH
    ZoneInfo(settings.timezone)
