"""What every command shares: the state from the top-level options, database access, the
output options declared once, and converters for typed input."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from s2s_cli.output import Format

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from s2s_cli.fastdb import Reader

T = TypeVar("T")


@dataclass
class State:
    target: str
    actor: str | None = None
    quiet: bool = False
    command: str = "s2s"

    def engine(self, *, check_schema: bool = True, auto_init: bool = True) -> Engine:
        from s2s_cli import db

        return db.prepare(self.target, check_schema=check_schema, auto_init=auto_init)

    def write(self, fn: Callable[[Session], T]) -> T:
        """Run fn(session) as one transaction (audited as this command, by this actor)."""
        from s2s_cli import db

        return db.run_write(self.engine(), fn, actor=db.actor_name(self.actor),
                            command=self.command)

    @contextmanager
    def session(self) -> Iterator[Session]:
        from s2s_cli import db

        with db.read_session(self.engine()) as session:
            yield session

    @contextmanager
    def reader(self, *, fast: bool = True) -> Iterator[Reader]:
        """A read-only Reader: stdlib sqlite3 on an existing SQLite file, else SQLAlchemy."""
        from s2s_cli import fastdb

        conn = fastdb.open_sqlite(self.target) if fast else None
        if conn is not None:
            try:
                yield fastdb.sqlite_reader(conn)
            finally:
                conn.close()
            return
        with self.session() as session:
            yield fastdb.session_reader(session)

    def note(self, message: str) -> None:
        if not self.quiet:
            sys.stderr.write(message + "\n")


def state(ctx: typer.Context) -> State:
    root = ctx.find_root()
    obj = root.obj
    assert isinstance(obj, State)
    obj.command = " ".join(_command_path(ctx))
    return obj


def _command_path(ctx: typer.Context) -> list[str]:
    names = []
    node: Any = ctx
    while node is not None:
        if node.parent is not None:
            names.append(node.info_name or "")
        node = node.parent
    return ["s2s", *reversed(names)]


FormatOpt = Annotated[
    Format,
    typer.Option("--format", "-f", help="table (terminal), plain, csv or json.",
                 case_sensitive=False),
]


def fail_usage(message: str) -> None:
    from s2s_cli.errors import InvalidInput

    raise InvalidInput(message)
