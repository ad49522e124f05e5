"""Process settings: command-line flags, `TGESC_*` environment variables, a `.env` file, defaults.

Precedence is exactly that order. Every resolved value remembers where it came from so that
`tgesc config show` can explain it, and secrets are masked whenever a value is shown.
Validation collects every problem at once and raises `ConfigInvalid` (exit 78): a value holding a control
character, an empty value where the setting has a default, or one its own check refuses. A settings file
named with --env-file or TGESC_ENV_FILE must exist; the default ./.env is read when it is there.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, parse_qsl, urlsplit

from tgesc.domain.durations import parse_duration
from tgesc.domain.errors import ConfigInvalid
from tgesc.domain.limits import MAX_TEXT, TELEGRAM_API_ID, LimitError, name_problem, read_text_file, zone_problem
from tgesc.domain.rates import Rate, parse_rate
from tgesc.domain.redaction import SECRET_MASK, mask_url_password, url_secrets
from tgesc.domain.ticket_rules import NEW_TAGS_BY

if TYPE_CHECKING:
    from tgesc.domain.surveys import SurveyPolicy

ENV_PREFIX = "TGESC_"
URL_SETTINGS = ("database_url", "redis_url")
ENV_FILE = ENV_PREFIX + "ENV_FILE"  # the settings file to read instead of ./.env


@dataclass(frozen=True)
class SettingSpec:
    """One setting: its name (`TGESC_<NAME>` in the environment), help and how to check it."""

    name: str
    help: str
    secret: bool = False
    check: Callable[[str], str | None] | None = None
    flag: str | None = None  # the global command-line option, where there is one

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


SQLITE_SYNCHRONOUS = ("off", "normal", "full")
MAX_SWEEP_BATCH = 10_000  # the largest sweep_batch: one transaction holding that many rows is long enough


def sqlite_url_parts(url: str) -> tuple[Path, dict[str, str]]:
    """The file and the pragmas a `sqlite:///` URL asks for: only `?synchronous=off|normal|full` (`off`: no
    fsync at all, for a throwaway database such as `tgesc simulate`'s). ValueError says what is wrong."""
    if not url.startswith("sqlite:///"):
        raise ValueError("a SQLite URL looks like sqlite:////abs/path.db")
    path, _, query = url[len("sqlite:///"):].partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    unknown = sorted(set(options) - {"synchronous"})
    if unknown:
        raise ValueError(f"unknown SQLite option {unknown[0]!r}; the only one is synchronous=off|normal|full")
    if options.get("synchronous", "normal").lower() not in SQLITE_SYNCHRONOUS:
        raise ValueError(f"synchronous={options['synchronous']!r}; use off, normal or full")
    return Path(path), {name: value.lower() for name, value in options.items()}


def _check_database_url(value: str) -> str | None:
    parts, problem = _split_url(value)
    if parts is None:
        return problem
    if parts.scheme == "sqlite":
        try:
            sqlite_url_parts(value)
        except ValueError as error:
            return str(error)
        return None
    if parts.scheme in ("postgresql", "postgres"):
        return None if parts.path.strip("/") else "a PostgreSQL URL needs a database name: postgresql://host/dbname"
    scheme = parts.scheme
    return f"unsupported scheme {scheme + ':' if scheme else '(none)'}; use sqlite:/// or postgresql://"


def _check_redis_url(value: str) -> str | None:
    if not value:
        return None
    parts, problem = _split_url(value)
    if parts is None:
        return problem
    if parts.scheme in ("redis", "rediss", "unix") and value.lower().startswith(f"{parts.scheme}://"):
        return None
    return "use redis://host:port/db, rediss://... or unix:///path/to.sock (empty: embedded Redis)"


def _split_url(value: str) -> tuple[SplitResult | None, str | None]:
    """The URL's parts, or None and what is wrong, in words that never repeat a part of it (it may be a
    password: an unencoded `/`, `?` or `#` in one ends the host part early, and the rest reads as a port)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError for a port that is no number up to 65535)
    except ValueError:
        return None, ("not a valid URL: the host part is malformed or its port is not a number up to 65535 "
                      "(percent-encode any /, ?, #, @ or : in a user name or password, e.g. / as %2F)")
    return parts, None


def _check_timezone(value: str) -> str | None:
    return zone_problem(value)


def _check_parses(parse: Callable[[str], object]) -> Callable[[str], str | None]:
    """A check that `parse` accepts the value (its ValueError's message is the problem)."""

    def check(value: str) -> str | None:
        try:
            parse(value)
        except ValueError as error:
            return str(error)
        return None

    return check


def _positive_duration(value: str) -> int:
    seconds = parse_duration(value)
    if seconds < 1:
        raise ValueError(f"{value!r} is too short: at least 1s")
    return seconds


def _sweep_batch(value: str) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= MAX_SWEEP_BATCH:
        raise ValueError(f"{value!r} is not a whole number from 1 to {MAX_SWEEP_BATCH:,}")
    return int(value)


def _survey_delay(value: str) -> int:
    from tgesc.domain.surveys import check_delay

    problem = check_delay(parse_duration(value))
    if problem:
        raise ValueError(problem)
    return parse_duration(value)


def _daytime(value: str) -> object:
    from tgesc.domain.survey_time import parse_daytime

    return parse_daytime(value)


def _tier_code(value: str) -> str:
    if not re.fullmatch(r"[\w.-]{1,16}", value):
        raise ValueError(f"{value!r} is not a tier code; use one such as L2")
    return value


def _check_clock(value: str) -> str | None:
    if value.startswith("file:") and len(value) > len("file:"):
        return None
    return "use file:/path/to/instant (a file holding an ISO 8601 instant), or leave it empty for real time"


def expanded(path: str) -> Path:
    """`path` with a leading `~` or `~user` expanded; as it is when that user (or the home) is unknown, which
    `_check_home` reports."""
    try:
        return Path(path).expanduser()
    except RuntimeError:
        return Path(path)


def _check_home(value: str) -> str | None:
    if value.startswith("~") and expanded(value) == Path(value):
        return f"cannot expand {value.split('/')[0]!r}: no such user or no home; give an absolute path"
    return None


def _check_bot_token(value: str) -> str | None:
    if re.fullmatch(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,200}", value):
        return None
    return "not a bot token: @BotFather gives one like 123456789:AAE... (the bot's id, a colon, the secret)"


def _check_new_tags_by(value: str) -> str | None:
    return None if value in NEW_TAGS_BY else f"use one of {', '.join(NEW_TAGS_BY)}"


LOG_FORMATS = ("text", "json")


def _check_log_format(value: str) -> str | None:
    return None if value in LOG_FORMATS else f"use one of {', '.join(LOG_FORMATS)}"


def _check_log_level(value: str) -> str | None:
    levels = ("DEBUG", "INFO", "WARNING", "ERROR")
    return None if value.upper() in levels else f"use one of {', '.join(levels)}"


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("home", "data directory: the SQLite database, later the Telegram session", check=_check_home,
                flag="--home"),
    SettingSpec("database_url", "sqlite:////path/file.db (default: in the data directory) or postgresql://...",
                check=_check_database_url, flag="--database-url"),
    SettingSpec("redis_url", "redis://host:6379/0; empty: an embedded Redis in the data directory",
                check=_check_redis_url, flag="--redis-url"),
    SettingSpec("timezone", "the zone times are shown in (IANA name)", check=_check_timezone, flag="--tz"),
    SettingSpec("actor", "staff member (Telegram id or name) recorded for CLI changes when --as is not given",
                check=name_problem),
    SettingSpec("log_level", "DEBUG, INFO, WARNING or ERROR", check=_check_log_level),
    SettingSpec("log_format", "the workers' log lines: text, or json (one JSON object a line)",
                check=_check_log_format),
    SettingSpec("api_id", "Telegram API id (my.telegram.org), needed by the bot worker",
                check=_check_parses(TELEGRAM_API_ID.parse)),
    SettingSpec("api_hash", "Telegram API hash, needed by the bot worker", secret=True),
    SettingSpec("bot_token", "Telegram bot token from @BotFather, needed by the bot worker", secret=True,
                check=_check_bot_token),
    SettingSpec("flood_limit", "customer messages per window before the bot throttles them (e.g. 20/1m)",
                check=_check_parses(parse_rate)),
    SettingSpec("send_rate", "outbound messages per window in total (Telegram allows about 30/1s)",
                check=_check_parses(parse_rate)),
    SettingSpec("chat_rate", "outbound messages per window to one chat", check=_check_parses(parse_rate)),
    SettingSpec("group_rate", "outbound messages per window to one group chat", check=_check_parses(parse_rate)),
    SettingSpec("new_tags_by", "who may create a tag no ticket has yet (/tag in Telegram, ticket tag --new --as): "
                "leads (team leads and admins) or staff (every staff member)", check=_check_new_tags_by),
    # the scheduled workers (`tgesc worker cron` / `run`): their clock, how often each periodic job is enqueued
    SettingSpec("clock", "empty: real time; file:/path: a virtual clock, the ISO 8601 instant in that file "
                "(tests, simulations)", check=_check_clock),
    SettingSpec("sla_sweep_every", "SLA sweep interval (warnings, breaches)", check=_check_parses(_positive_duration)),
    SettingSpec("unresolved_sweep_every", "unresolved-for rule sweep interval",
                check=_check_parses(_positive_duration)),
    SettingSpec("survey_sweep_every", "survey sweep interval", check=_check_parses(_positive_duration)),
    SettingSpec("lifecycle_sweep_every", "lifecycle sweep interval (waiting reminders, automatic resolutions and "
                "closings)", check=_check_parses(_positive_duration)),
    SettingSpec("assignment_sweep_every", "assignment sweep interval (tickets back from staff whose shift ended, "
                "tickets nobody holds to staff on shift)", check=_check_parses(_positive_duration)),
    SettingSpec("digest_check_every", "how often cron looks whether the weekly digest ([reports] digest) is due",
                check=_check_parses(_positive_duration)),
    SettingSpec("sweep_batch", "due tickets (or surveys) one sweep job claims and handles in one transaction; a "
                "full batch hands the rest to a follow-up job, so that workers share a backlog (1-10000)",
                check=_check_parses(_sweep_batch)),
    SettingSpec("relay_every", "outbox relay interval (re-enqueues lost deliveries)",
                check=_check_parses(_positive_duration)),
    SettingSpec("housekeeping_every", "housekeeping interval", check=_check_parses(_positive_duration)),
    SettingSpec("cron_lock_ttl", "the single-cron lock's time to live: how soon a standby cron takes over",
                check=_check_parses(_positive_duration)),
    # return-visit surveys (tgesc.domain.surveys): when they go out, the reminder, expiry, low-score tier
    SettingSpec("survey_delay", "a survey goes out this long after the resolution (24h-48h), then in the "
                "customer's daytime", check=_check_parses(_survey_delay)),
    SettingSpec("survey_hours", "the customer's daytime surveys are sent in (HH:MM-HH:MM in their zone, else "
                "their language's usual zone)", check=_check_parses(_daytime)),
    SettingSpec("survey_remind_after", "one reminder this long after an unanswered survey was sent",
                check=_check_parses(_positive_duration)),
    SettingSpec("survey_expire_after", "an unanswered survey expires this long after its reminder",
                check=_check_parses(_positive_duration)),
    SettingSpec("survey_low_score_tier", "the tier a ticket rated 1-3 stars is escalated to (code)",
                check=_check_parses(_tier_code)),
)
DEFAULTS = {"log_level": "INFO", "log_format": "text", "flood_limit": "20/1m", "send_rate": "25/1s",
            "chat_rate": "1/1s", "group_rate": "20/1m", "new_tags_by": "leads",
            "sla_sweep_every": "15s", "unresolved_sweep_every": "15s", "survey_sweep_every": "1m",
            "lifecycle_sweep_every": "1m", "assignment_sweep_every": "1m", "digest_check_every": "1m",
            "sweep_batch": "100",
            "relay_every": "30s", "housekeeping_every": "1h", "cron_lock_ttl": "30s",
            "survey_delay": "24h", "survey_hours": "10:00-20:00", "survey_remind_after": "24h",
            "survey_expire_after": "24h", "survey_low_score_tier": "L2"}
SPEC_BY_NAME = {spec.name: spec for spec in SPECS}


@dataclass(frozen=True)
class Value:
    """A resolved setting and its source: 'flag', 'env', '.env (<path>)' or 'default'."""

    value: str
    source: str


@dataclass(frozen=True)
class Settings:
    """The effective settings of one process. Build them with `load_settings`."""

    values: Mapping[str, Value] = field(default_factory=dict, repr=False)  # a repr would show the secrets

    def get(self, name: str) -> str:
        return self.values[name].value

    @property
    def home(self) -> Path:
        return expanded(self.get("home"))

    @property
    def database_url(self) -> str:
        return self.get("database_url")

    @property
    def redis_url(self) -> str:
        return self.get("redis_url")

    @property
    def timezone(self) -> str:
        return self.get("timezone")

    @property
    def sweep_batch(self) -> int:
        return _sweep_batch(self.get("sweep_batch"))

    def seconds(self, name: str) -> int:
        """One of the duration settings (e.g. sla_sweep_every), in whole seconds."""
        return parse_duration(self.get(name))

    @property
    def survey_policy(self) -> SurveyPolicy:
        """The survey_* settings, parsed."""
        from tgesc.domain.survey_time import parse_daytime
        from tgesc.domain.surveys import SurveyPolicy

        return SurveyPolicy(delay=timedelta(seconds=self.seconds("survey_delay")),
                            daytime=parse_daytime(self.get("survey_hours")),
                            remind_after=timedelta(seconds=self.seconds("survey_remind_after")),
                            expire_after=timedelta(seconds=self.seconds("survey_expire_after")),
                            low_score_tier=self.get("survey_low_score_tier"))

    def rate(self, name: str) -> Rate:
        """One of the rate settings (flood_limit, send_rate, chat_rate, group_rate), parsed."""
        return parse_rate(self.get(name))

    def require(self, *names: str, purpose: str) -> None:
        """Raise ConfigInvalid naming every setting in `names` that is empty, for `purpose`."""
        missing = [SPEC_BY_NAME[n].env for n in names if not self.get(n)]
        if missing:
            raise ConfigInvalid(
                f"{purpose} needs settings that are not set (flag, environment or .env file):",
                problems=[f"{env} is not set" for env in missing],
            )

    def shown(self) -> list[dict[str, str]]:
        """Rows for `config show`: name, environment variable, masked value, source."""
        return [
            {"setting": spec.name, "env": spec.env, "value": masked(spec, self.get(spec.name)),
             "source": self.values[spec.name].source}
            for spec in SPECS
        ]


def masked(spec: SettingSpec, value: str) -> str:
    """The value safe to print: secrets replaced, passwords inside URLs replaced."""
    if not value:
        return ""
    if spec.secret:
        return SECRET_MASK
    if spec.name in URL_SETTINGS:
        return mask_url_password(value)
    return value


def setting_secrets(values: Mapping[str, str]) -> set[str]:
    """Every secret in `values` (setting name -> value): secret settings whole, the passwords inside URLs."""
    found: set[str] = set()
    for name, value in values.items():
        spec = SPEC_BY_NAME.get(name)
        if spec is not None and spec.secret and value:
            found.add(value)
        elif name in URL_SETTINGS and value:
            found |= url_secrets(value)
    return found


def _default_home(environ: Mapping[str, str]) -> str:
    xdg = environ.get("XDG_DATA_HOME") or str(Path(environ.get("HOME", "~")) / ".local" / "share")
    return str(expanded(xdg) / "tgesc")


def _default_timezone() -> str:
    """The machine's zone name when it can be read from /etc/localtime or $TZ, else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and _check_timezone(tz) is None:
        return tz
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return "UTC"
    marker = "zoneinfo/"
    name = target.split(marker, 1)[1] if marker in target else "UTC"
    return name if _check_timezone(name) is None else "UTC"


def _read_env_file(path: Path, named: str | None) -> tuple[dict[str, str], str]:
    """The values of a settings file and its source text; the default ./.env (`named` None) may be absent,
    a file named by `named` (--env-file, TGESC_ENV_FILE) must be there."""
    if named is None and not path.exists():
        return {}, ""
    try:
        text = read_text_file(path)
    except LimitError as error:
        where = f" (from {named})" if named else ""
        raise ConfigInvalid(f"the settings file {path}{where} cannot be used: {error}") from None
    from io import StringIO

    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(stream=StringIO(text)).items() if v is not None}
    return values, f".env ({path})"


def load_settings(
    flags: Mapping[str, str | None] | None = None,
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = None,
) -> Settings:
    """Resolve every setting by precedence and validate them all; raise ConfigInvalid listing each problem.

    `env_file` (the --env-file flag) defaults to `$TGESC_ENV_FILE`, else `./.env` when it exists; a file
    named either way that cannot be read (missing, binary) is a ConfigInvalid of its own.
    """
    environ = os.environ if environ is None else environ
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    named = "--env-file" if env_file is not None else None
    if env_file is None and environ.get(ENV_FILE):
        env_file, named = Path(environ[ENV_FILE]), ENV_FILE
    dotenv, dotenv_source = _read_env_file(env_file or Path(".env"), named)

    resolved: dict[str, Value] = {}
    for spec in SPECS:
        if spec.name in flags:
            resolved[spec.name] = Value(str(flags[spec.name]), "flag")
        elif spec.env in environ:
            resolved[spec.name] = Value(environ[spec.env], "env")
        elif spec.env in dotenv:
            resolved[spec.name] = Value(dotenv[spec.env], dotenv_source)
        else:
            resolved[spec.name] = Value(_default(spec.name, resolved, environ), "default")
    settings = Settings(resolved)
    _validate(settings, extra_keys=_unknown_keys(dotenv, dotenv_source))
    return settings


def _default(name: str, resolved: Mapping[str, Value], environ: Mapping[str, str]) -> str:
    if name == "home":
        return _default_home(environ)
    if name == "database_url":
        home = expanded(resolved["home"].value).resolve()
        return f"sqlite:///{home / 'tgesc.db'}"
    if name == "timezone":
        return _default_timezone()
    return DEFAULTS.get(name, "")


def _unknown_keys(dotenv: Mapping[str, str], source: str) -> Iterable[str]:
    known = {spec.env for spec in SPECS} | {ENV_FILE}
    return [f"{source}: unknown setting {key}" for key in dotenv if key.startswith(ENV_PREFIX) and key not in known]


def _validate(settings: Settings, extra_keys: Iterable[str] = ()) -> None:
    problems = list(extra_keys)
    for spec in SPECS:
        value = settings.get(spec.name)
        problem = _problem(spec, value)
        if problem:
            source = settings.values[spec.name].source
            name = f"{spec.flag} " if source == "flag" else f"{spec.env}="
            shown = masked(spec, value)  # never a secret, even one that holds what no setting may
            shown = repr(shown)[:60] if name_problem(value, MAX_TEXT) else shown
            problems.append(f"{name}{shown or repr('')} (from {source}): {problem}")
    if problems:
        raise ConfigInvalid("invalid settings:", problems=problems)


def _problem(spec: SettingSpec, value: str) -> str | None:
    """What is wrong with one setting's value: empty where a default exists, a control character, or what
    its own check finds."""
    if value == "":
        has_default = spec.name in DEFAULTS or spec.name in ("home", "database_url", "timezone")
        return "is empty; leave the setting out for its default, or give a value" if has_default else None
    found = name_problem(value, MAX_TEXT)
    if found:
        return f"the value {found}"
    return spec.check(value) if spec.check is not None else None
