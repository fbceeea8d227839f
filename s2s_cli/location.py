"""Where the database is: --db, else $S2S_DB, else a file in the user data directory.
Stdlib only (it is on every command's path, including the fast read path)."""

from __future__ import annotations

import os
from pathlib import Path

# The Alembic revisions this code knows, oldest first; the last is the schema the code needs.
SCHEMA_REVISIONS = ("0001", "0002", "0003", "0004_directory", "0004_corrections",
                    "0004_reportcards", "0004_money", "0004_tamper", "0005_week",
                    "0006_payments", "0007_books", "0007_billrules")
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


def is_explicit(cli_value: str | None) -> bool:
    """Whether the database was named (--db or $S2S_DB): a named database is never created as
    a side effect, only by `s2s db init`."""
    return bool((cli_value or "").strip() or os.environ.get("S2S_DB", "").strip())


def missing_message(target: str) -> str:
    shown = describe(target)
    return (f"no database at {shown}; create it with 's2s db init {shown}' "
            "(--demo for the sample directory)")


def sqlite_missing(path: Path) -> bool:
    """No SQLite database in this file: absent, a folder, or empty with no write-ahead log
    (a WAL database's main file can be empty while another connection holds its data)."""
    if not path.is_file():
        return True
    if path.stat().st_size > 0:
        return False
    wal = path.with_name(path.name + "-wal")
    return not (wal.is_file() and wal.stat().st_size > 0)


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
