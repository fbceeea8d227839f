"""Alembic, driven from code: the migrations ship inside the package."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine


def _config(connection):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


MIGRATE_LOCK_KEY = 0x5325_0002  # PostgreSQL advisory lock held while migrations run


def run_upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade in one transaction.  On SQLite, foreign-key enforcement is switched off while
    the migrations run (as SQLite's documented table-rebuild procedure asks: an Alembic batch
    operation copies a table, drops the original and renames the copy, and dropping a table
    that other rows point at fails otherwise), then every reference is checked before the
    commit: a violation rolls the whole upgrade back."""
    from alembic import command

    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # a PRAGMA that only takes effect outside a transaction: on the raw handle
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        elif conn.dialect.name == "postgresql":  # one migrator at a time; others then no-op
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATE_LOCK_KEY})")
        try:
            command.upgrade(_config(conn), revision)
            if sqlite:
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    conn.rollback()
                    from s2s_cli.errors import S2SError

                    table, rowid, parent, _ = broken[0]
                    raise S2SError(f"the upgrade would leave {len(broken)} broken reference(s) "
                                   f"(e.g. {table} row {rowid} -> {parent}); nothing was "
                                   "changed")
            conn.commit()
        finally:
            if sqlite:
                conn.rollback()  # no-op after the commit; the PRAGMA needs no transaction
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config(None))
    return str(script.get_current_head())
