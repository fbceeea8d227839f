"""Where the database is: --db, else $S2S_DB, else a file in the user data directory.
Stdlib only (it is on every command's path, including the fast read path)."""

from __future__ import annotations

import os
from pathlib import Path

# The Alembic revisions this code knows, oldest first; the last is the schema the code needs.
SCHEMA_REVISIONS = ("0001", "0002", "0003", "0004_money")
SCHEMA_HEAD = SCHEMA_REVISIONS[-1]


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("s2s", appauthor=False)) / "s2s.db"


def resolve(cli_value: str | None) -> str:
    """The database as given: a filesystem path (SQLite) or an SQLAlchemy URL (has `://`)."""
    value = cli_value or os.environ.get("S2S_DB") or ""
    if not value.strip():
        return str(default_db_path())
    return value.strip()


def is_url(target: str) -> bool:
    return "://" in target


def sqlite_path(target: str) -> Path | None:
    """The file behind a SQLite target, or None for a server URL / in-memory database."""
    if not is_url(target):
        return Path(target).expanduser()
    if target.startswith("sqlite:///"):
        rest = target[len("sqlite:///"):].split("?", 1)[0]
        return Path(rest) if rest and rest != ":memory:" else None
    return None


def sqlalchemy_url(target: str) -> str:
    if is_url(target):
        return target
    return f"sqlite:///{Path(target).expanduser()}"


def describe(target: str) -> str:
    """The target with any password hidden, for messages."""
    if is_url(target) and "@" in target:
        scheme, rest = target.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return target


def schema_problem(version: str | None) -> str | None:
    """A one-line refusal when the database schema is not the one this code needs."""
    if version == SCHEMA_HEAD:
        return None
    if version in SCHEMA_REVISIONS:
        return (f"the database schema ({version}) is older than this s2s ({SCHEMA_HEAD}): "
                "run `s2s db upgrade` (take a backup first with `s2s db backup`)")
    return (f"the database schema ({version}) is newer than this s2s knows ({SCHEMA_HEAD}): "
            "upgrade s2s")
