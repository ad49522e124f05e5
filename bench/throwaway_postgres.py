"""A throwaway PostgreSQL database for the benchmarks: created on the server of a URL, dropped afterwards.

    with throwaway_postgres("postgresql://127.0.0.1/test") as (url, detail):
        if url is None:
            print(detail)          # why PostgreSQL is skipped (unreachable, no right to create a database)
        else:
            ...                    # detail: "16.4 on 127.0.0.1, synchronous_commit=on"

A URL without a user is tried as given, then as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit


@contextlib.contextmanager
def throwaway_postgres(url: str) -> Iterator[tuple[str | None, str]]:
    """(the URL of a new database, its description), or (None, why not); the database is dropped after."""
    import psycopg
    from psycopg import sql

    server, errors = None, []
    parts = urlsplit(url)
    candidates = [url] + ([urlunsplit(parts._replace(netloc=f"postgres@{parts.netloc}"))] if not parts.username
                          else [])
    for candidate in candidates:
        try:
            with psycopg.connect(candidate, autocommit=True, connect_timeout=5) as conn:
                version = conn.execute("SHOW server_version").fetchone()[0]
                sync = conn.execute("SHOW synchronous_commit").fetchone()[0]
            server = candidate
            break
        except psycopg.Error as exc:
            errors.append(str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc))
    if server is None:
        yield None, f"skipped, PostgreSQL unreachable at {url}: {'; '.join(dict.fromkeys(errors))}"
        return
    name = f"tgesc_bench_{secrets.token_hex(6)}"
    try:
        with psycopg.connect(server, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        yield None, f"skipped, cannot create a database on {url}: {str(exc).strip().splitlines()[0]}"
        return
    try:
        host = urlsplit(server).hostname or "local socket"
        yield (urlunsplit(urlsplit(server)._replace(path="/" + name)),
               f"{version} on {host}, synchronous_commit={sync}")
    finally:
        with psycopg.connect(server, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
