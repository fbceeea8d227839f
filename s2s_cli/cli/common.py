"""What every command shares: the state from the top-level options, database access, the
output options declared once, and converters for typed input."""

from __future__ import annotations

import sys
import typing
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
    from s2s_cli.unit import Tx

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

    def write_light(self, fn: Callable[[Tx], T]) -> T:
        """Run fn(tx) as one transaction on a plain DB-API connection (`s2s_cli.unit`: no
        SQLAlchemy import), audited as this command, by this actor.  A database that needs
        creating or explaining goes through `engine()` first, as `write` does."""
        from s2s_cli import unit

        self.refuse_missing()
        actor = _actor_name(self.actor)
        done, result = unit.run(lambda: unit.open_write(self.target), fn, actor=actor,
                                command=self.command)
        if done:
            return result  # type: ignore[return-value]
        engine = self.engine()  # creates the default database, or refuses in one line

        def opener() -> tuple[Any, str] | None:
            opened = unit.open_write(self.target)
            if opened is not None:
                return opened
            raw = engine.raw_connection()  # another driver or URL form: SQLAlchemy connects
            if engine.dialect.name == "sqlite":
                raw.execute("BEGIN IMMEDIATE")
            return raw, engine.dialect.name

        return unit.run(opener, fn, actor=actor, command=self.command)[1]  # type: ignore[return-value]

    @contextmanager
    def session(self, *, snapshot: bool = False) -> Iterator[Session]:
        from s2s_cli import db

        with db.read_session(self.engine(), snapshot=snapshot) as session:
            yield session

    @contextmanager
    def reader(self, *, fast: bool = True, snapshot: bool = False) -> Iterator[Reader]:
        """A read-only Reader: stdlib sqlite3 on an existing SQLite file, psycopg on an
        existing PostgreSQL database, else SQLAlchemy (which creates or explains).
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
            except sys.modules["sqlite3"].OperationalError as exc:  # loaded: conn is one
                if fastdb.is_busy(exc):
                    from s2s_cli.errors import Busy

                    raise Busy() from exc
                raise
            finally:
                conn.close()
            return
        pg = fastdb.open_pg(self.target, snapshot=snapshot) if fast and conn is None else None
        if pg is not None:
            try:
                yield fastdb.pg_reader(pg)
            except Exception as exc:
                if fastdb.is_busy(exc):
                    from s2s_cli.errors import Busy

                    raise Busy() from exc
                raise
            finally:
                pg.close()
            return
        with self.session(snapshot=snapshot) as session:
            yield fastdb.session_reader(session)

    def note(self, message: str) -> None:
        if not self.quiet:
            sys.stderr.write(message + "\n")


def _actor_name(explicit: str | None) -> str:
    """db.actor_name, without importing SQLAlchemy."""
    if explicit:
        return explicit
    import getpass

    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


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
            lo, hi = getattr(info, "min", None), getattr(info, "max", None)

            def to_int(v: Any, p: Any, c: Any) -> int:
                if isinstance(v, int) and not isinstance(v, bool):
                    n = v
                else:
                    raw = str(v).strip()
                    # ASCII digits only: int() would take '١٣١٥٤٣', '１２' and '1_000'
                    if not (raw.isascii() and raw.lstrip("+-").isdigit()
                            and len(raw) - len(raw.lstrip("+-")) <= 1):
                        raise BadParameter(f"{v!r} is not a whole number (digits 0-9).",
                                           ctx=c, param=p)
                    n = int(raw)
                if not -2**63 <= n < 2**63:  # no database column holds more
                    raise BadParameter(f"{v!r} is too large.", ctx=c, param=p)
                if (lo is not None and n < lo) or (hi is not None and n > hi):
                    span = f"{lo if lo is not None else ''}<=x<={hi if hi is not None else ''}"
                    raise BadParameter(f"{n} is not in the range {span}.", ctx=c, param=p)
                return n
            return to_int
        if annotation is float:
            def to_float(v: Any, p: Any, c: Any) -> float:
                try:
                    if isinstance(v, str) and not v.isascii():
                        raise ValueError(v)
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
        if descriptor.file_annotation is not None or info.parser is not None or getattr(
                info, "clamp", False):
            return None
        annotation, many = descriptor.annotation, False
        ranged = getattr(info, "min", None) is not None or getattr(info, "max", None) is not None
        if ranged and annotation is not int:
            return None
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


# --- shell completion of leader ids and URNs --------------------------------------------------

MAX_COMPLETIONS = 50


def _completion_rows(ctx: typer.Context, sql: str, incomplete: str) -> list[tuple[str, str]]:
    """(value, description) pairs for shell completion, read from an existing SQLite database
    only (stdlib sqlite3: a completion never creates a database, migrates one or waits on a
    server).  Any problem completes nothing."""
    try:
        from s2s_cli import fastdb, location

        root = ctx.find_root()
        target = location.resolve(root.params.get("db") if root.params else None)
        conn = fastdb.open_sqlite(target)
        if conn is None:
            return []
        try:
            like = incomplete.strip().lower().replace("\\", "").replace("%", "").replace(
                "_", "") + "%"
            rows = conn.execute(sql, {"p": like, "n": MAX_COMPLETIONS}).fetchall()
        finally:
            conn.close()
    except Exception:  # a completion must never print a traceback into the shell
        return []
    return [(str(value), str(name or "")) for value, name in rows]


def complete_leader(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Leader ids starting with what was typed (any case: `l90` offers l9001, which s2s reads
    as L9001; the shell keeps only completions that begin with what was typed), active leaders
    first."""
    rows = _completion_rows(ctx, "SELECT id, name FROM leader WHERE lower(id) LIKE :p "
                            "ORDER BY active DESC, id LIMIT :n", incomplete)
    return [(incomplete + value[len(incomplete):], name) for value, name in rows]


def complete_school(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """School URNs starting with the digits typed."""
    return _completion_rows(ctx, "SELECT urn, name FROM school WHERE CAST(urn AS TEXT) LIKE :p "
                            "ORDER BY urn LIMIT :n", incomplete)


# Words for an option's value in --help, by option name, when the option declares no metavar
# (any other name is shown upper-cased: --kind KIND, --region REGION).
HELP_WORDS = {"note": "TEXT", "reason": "TEXT", "impact": "TEXT", "by": "FIELD",
              "contact": "NAME", "limit": "N"}


def install_help_words() -> None:
    """--help shows words for values (DATE, N, TEXT, KIND, [auto|table|plain|csv|json]), never
    Python types: recent typer releases print `<str>`, `<int>` or `<list[str]>` for an option
    without a metavar, and the type after an argument's metavar (`ID <str>`).  Older typer
    releases (click's own help) already print words: then this does nothing."""
    try:
        from typer import core as tcore
    except ImportError:  # pragma: no cover
        return
    base = getattr(tcore, "_TyperParameter", None)
    argument = getattr(tcore, "TyperArgument", None)
    original = getattr(base, "display_type", None)
    if base is None or argument is None or original is None or getattr(
            original, "_s2s_words", False):
        return

    def display_type(self: Any, ctx: Any) -> str:
        try:
            desc = self.type_descriptor
            if desc.is_choice:
                label = str(original(self, ctx)).strip("<>")
                if label.startswith("list[") and label.endswith("]"):
                    label = label[5:-1]
                return f"[{label}]"
            if desc.is_path:
                return "PATH"
            annotation = desc.annotation
            if typing.get_origin(annotation) is list:
                (annotation,) = typing.get_args(annotation)
        except Exception:  # pragma: no cover - unexpected typer internals: be safe
            return "VALUE"
        if annotation is int:
            return "N"
        if annotation is float:
            return "NUMBER"
        longest = max((o for o in getattr(self, "opts", ()) if o.startswith("--")), key=len,
                      default="--" + (self.name or "value"))
        name = longest.lstrip("-")
        return HELP_WORDS.get(name, name.upper().replace("-", "_"))

    def argument_display_type_rich(self: Any, ctx: Any) -> str:
        # an argument's metavar already says what it is (ID, URN, FILE)
        return "" if self.metavar is not None else display_type(self, ctx)

    display_type._s2s_words = True  # type: ignore[attr-defined]
    base.display_type = display_type
    argument.display_type_rich = argument_display_type_rich


def fail_usage(message: str) -> None:
    from s2s_cli.errors import InvalidInput

    raise InvalidInput(message)
