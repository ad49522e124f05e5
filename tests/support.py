"""Small helpers shared by the tests (importable because pyproject puts tests/ on pytest's pythonpath)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import peewee

T = TypeVar("T")


def ok_json(result) -> Any:
    """The JSON document a successful CLI call printed (fails the test, showing the output, otherwise)."""
    assert result.exit_code == 0, result
    return json.loads(result.stdout)


def run(cli, *args: str):
    """Run a tgesc command with the `cli` fixture; it must succeed (exit 0). Its result."""
    result = cli(*args)
    assert result.exit_code == 0, result
    return result


def unboxed(text: str) -> str:
    """Click's usage error as one line, without the box Rich draws around it."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def cells(line: str) -> list[str]:
    """The cells of one row of a plain-text table (columns are separated by two or more spaces)."""
    return re.split(r"\s{2,}", line.strip())


def empty_env_file(directory: Path) -> str:
    """An empty settings file in `directory`, for TGESC_ENV_FILE: the developer's ./.env is never read, and
    a named settings file must exist (a missing one is exit 78)."""
    path = Path(directory) / "empty.env"
    path.touch()
    return str(path)


def database_rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every table of the SQLite or PostgreSQL database at `url`, sorted: compare two of them
    to prove that a command changed nothing."""
    if url.startswith("sqlite:///"):
        import sqlite3

        path = url[len("sqlite:///"):].partition("?")[0]
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        query = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    else:
        import psycopg

        connection = psycopg.connect(url, autocommit=True)
        query = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
    try:
        tables = [row[0] for row in connection.execute(query).fetchall()]
        return {table: sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
                for table in tables}
    finally:
        connection.close()


def flat(stderr: str) -> str:
    """Stderr with the panel Typer draws around a usage error taken away and all whitespace single spaces,
    so that a message wrapped over the panel's lines can be found."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", stderr).split())


def private_message(user_id: int, message_id: int, sent_at, text: str = "", **fields: Any):
    """A customer's message in their private chat with the bot, as the Telegram adapter hands it over: `fields`
    of the sender (username, first_name, last_name, language_code, access_hash) or of the message (media_type,
    file_id, edited_at ...)."""
    from dataclasses import fields as dataclass_fields

    from tgesc.domain.telegram import IncomingMessage, User

    user_fields = {f.name for f in dataclass_fields(User)}
    sender = User(id=user_id, **{k: v for k, v in fields.items() if k in user_fields})
    return IncomingMessage(chat_id=user_id, chat_type="private", message_id=message_id, sender=sender,
                           sent_at=sent_at, text=text, **{k: v for k, v in fields.items() if k not in user_fields})


def at_once(work: Callable[[], T], db: peewee.Database, *, count: int = 2, timeout: float = 120) -> list[T]:
    """`work()` in `count` threads released together (a barrier), each on its own connection of `db` (peewee's are
    per thread; closed after): their results, once all are done; the first failure of any is raised."""
    start, results, failures = threading.Barrier(count), [], []

    def run() -> None:
        start.wait()
        try:
            results.append(work())
        except Exception as exc:  # noqa: BLE001 - raised below, in the test's thread
            failures.append(exc)
        finally:
            db.close()  # this thread's connection

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    if failures:
        raise failures[0]
    assert len(results) == count, f"{count - len(results)} of the {count} runs did not finish in {timeout} s"
    return results
