"""What every command shares: the state from the top-level options, database access, the
output options declared once, and converters for typed input."""

from __future__ import annotations

import sqlite3
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
    explicit: bool = False  # named with --db or $S2S_DB: never created except by `db init`

    def refuse_missing(self) -> None:
        """A named SQLite file that is not there: one line, before any heavy import."""
        from s2s_cli import location

        path = location.sqlite_path(self.target)
        if self.explicit and path is not None and location.sqlite_missing(path):
            from s2s_cli.errors import InvalidInput

            raise InvalidInput(location.missing_message(self.target))

    def engine(self, *, check_schema: bool = True, auto_init: bool = True,
               must_exist: bool = True) -> Engine:
        from s2s_cli import db

        return db.prepare(self.target, check_schema=check_schema, auto_init=auto_init,
                          explicit=self.explicit and must_exist)

    def write(self, fn: Callable[[Session], T]) -> T:
        """Run fn(session) as one transaction (audited as this command, by this actor)."""
        from s2s_cli import db

        return db.run_write(self.engine(), fn, actor=db.actor_name(self.actor),
                            command=self.command)

    @contextmanager
    def session(self, *, snapshot: bool = False) -> Iterator[Session]:
        from s2s_cli import db

        with db.read_session(self.engine(), snapshot=snapshot) as session:
            yield session

    @contextmanager
    def reader(self, *, fast: bool = True, snapshot: bool = False) -> Iterator[Reader]:
        """A read-only Reader: stdlib sqlite3 on an existing SQLite file, else SQLAlchemy.
        With snapshot, every query sees the same moment (one read transaction: SQLite `BEGIN`
        on one connection, PostgreSQL `REPEATABLE READ READ ONLY`), whatever others commit
        meanwhile."""
        from s2s_cli import fastdb

        self.refuse_missing()
        conn = fastdb.open_sqlite(self.target) if fast else None
        if conn is not None:
            try:
                if snapshot:
                    conn.isolation_level = None  # the stdlib starts no transaction for reads
                    conn.execute("BEGIN")
                yield fastdb.sqlite_reader(conn)
            except sqlite3.OperationalError as exc:
                if fastdb.is_busy(exc):
                    from s2s_cli.errors import Busy

                    raise Busy() from exc
                raise
            finally:
                conn.close()
            return
        with self.session(snapshot=snapshot) as session:
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


def install_light_coercion() -> None:
    """Parse plain option types (str, int, float, bool, enums, paths and lists of them) with
    the stdlib instead of typer's pydantic TypeAdapters.

    Recent typer releases build a pydantic TypeAdapter for every parameter of the invoked
    command; importing pydantic and building the adapters costs ~0.1 s per command, more than
    the whole search takes.  Anything this does not recognise (parsers, ranges, dates, files...)
    still goes to typer's own coercion, and on a typer without this machinery it does nothing."""
    try:
        from typer import core as tcore
        from typer._click.exceptions import BadParameter
        from typer._coercion import RuntimeParam
        from typer._param_types import coerce_cli_choice, coerce_cli_path
    except ImportError:  # pragma: no cover - other typer versions
        return
    param_cls = getattr(tcore, "_TyperParameter", None)
    original = getattr(param_cls, "get_runtime_param", None)
    if param_cls is None or original is None or getattr(original, "_s2s_light", False):
        return
    import enum
    import typing
    from dataclasses import dataclass
    from pathlib import Path

    def leaf_for(annotation: Any, info: Any) -> Callable[[Any, Any, Any], Any] | None:
        if annotation is str:
            return lambda v, _p, _c: v if isinstance(v, str) else str(v)
        if annotation is int:
            def to_int(v: Any, p: Any, c: Any) -> int:
                if isinstance(v, int) and not isinstance(v, bool):
                    return v
                try:
                    n = int(str(v).strip())
                except ValueError:
                    raise BadParameter(f"{v!r} is not a valid integer.", ctx=c,
                                       param=p) from None
                if not -2**63 <= n < 2**63:  # no database column holds more
                    raise BadParameter(f"{v!r} is too large.", ctx=c, param=p)
                return n
            return to_int
        if annotation is float:
            def to_float(v: Any, p: Any, c: Any) -> float:
                try:
                    return float(v)
                except (TypeError, ValueError):
                    raise BadParameter(f"{v!r} is not a valid number.", ctx=c,
                                       param=p) from None
            return to_float
        if annotation is bool:
            def to_bool(v: Any, p: Any, c: Any) -> bool:
                if isinstance(v, bool):
                    return v
                text_v = str(v).strip().lower()
                if text_v in ("1", "true", "t", "yes", "y", "on"):
                    return True
                if text_v in ("", "0", "false", "f", "no", "n", "off"):
                    return False
                raise BadParameter(f"{v!r} is not a valid boolean.", ctx=c, param=p)
            return to_bool
        if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            choices = list(annotation)
            sensitive = info.case_sensitive

            def to_choice(v: Any, p: Any, c: Any) -> Any:
                try:
                    return coerce_cli_choice(v, choices=choices, case_sensitive=sensitive,
                                             ctx=c)
                except ValueError as exc:
                    raise BadParameter(str(exc), ctx=c, param=p) from None
            return to_choice
        if annotation is Path and info.path_type in (None, Path):
            def to_path(v: Any, p: Any, c: Any) -> Any:
                return coerce_cli_path(v if isinstance(v, Path) else Path(v), info,
                                       path_type=Path, param=p, ctx=c)
            return to_path
        return None

    @dataclass(frozen=True)
    class LightParam(RuntimeParam):
        leaf: Any = None
        many: bool = False

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            if self.many:
                items = value if isinstance(value, list | tuple) else [value]
                return [self.leaf(item, param, ctx) for item in items]
            return self.leaf(value, param, ctx)

    def light(descriptor: Any) -> Any:
        info = descriptor.parameter_info
        if (descriptor.file_annotation is not None or info.parser is not None
                or getattr(info, "min", None) is not None
                or getattr(info, "max", None) is not None or getattr(info, "clamp", False)):
            return None
        annotation, many = descriptor.annotation, False
        if typing.get_origin(annotation) is list:
            args = typing.get_args(annotation)
            if len(args) != 1:
                return None
            annotation, many = args[0], True
        leaf = leaf_for(annotation, info)
        if leaf is None:
            return None
        return LightParam(annotation=descriptor.annotation, parameter_info=info, leaf=leaf,
                          many=many)

    def get_runtime_param(self: Any) -> Any:
        if self._runtime_param is None:
            try:
                self._runtime_param = light(self.type_descriptor)
            except Exception:  # pragma: no cover - unexpected typer internals: be safe
                self._runtime_param = None
        if self._runtime_param is None:
            return original(self)
        return self._runtime_param

    get_runtime_param._s2s_light = True  # type: ignore[attr-defined]
    param_cls.get_runtime_param = get_runtime_param


def fail_usage(message: str) -> None:
    from s2s_cli.errors import InvalidInput

    raise InvalidInput(message)
