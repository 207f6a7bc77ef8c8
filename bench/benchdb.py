"""The empty PostgreSQL database a benchmark builds its data in (shared by the bench scripts)."""

from __future__ import annotations

import sys
from urllib.parse import urlparse


def prepare_database(url: str, *, reset: bool, script: str) -> None:
    """Create the database named by `url` if missing. A non-empty one is refused unless `reset`,
    which drops and recreates it: a benchmark never mixes its rows with somebody's data."""
    import psycopg

    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        sys.exit(f"{script}: DATABASE_URL must name a PostgreSQL database")
    name = parsed.path.lstrip("/")
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            with psycopg.connect(url) as db:
                tables = db.execute(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
                ).fetchone()[0]
            if tables and not reset:
                sys.exit(f"{script}: database {name!r} is not empty; pass --reset to drop and rebuild it")
            if tables:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
