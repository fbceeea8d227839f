"""The `s2s` command: a thin layer that parses options, calls one service and hands the rows
to the output layer.  Only typer and the stdlib are imported here, so `s2s --help` and the
SQLite read paths start fast; services and SQLAlchemy load inside the commands that need them."""

from __future__ import annotations

import errno
import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from s2s_cli import __version__
from s2s_cli.cli.common import State, install_help_words, install_light_coercion
from s2s_cli.clickcompat import Abort, ClickException, Context, Exit, UsageError


class S2SGroup(TyperGroup):
    """Every error becomes one line on stderr and an exit code (0 ok, 1 refusal, 2 bad input).
    Set S2S_RAISE_ERRORS=1 to see the traceback of an unexpected error."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: Context | None = None, **extra: Any) -> Context:
        if parent is None:
            _refuse_undecodable(args)
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except UsageError as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx: Context) -> Any:
        if "s2s_cli.db" in sys.modules:  # only what this command creates may be undone
            sys.modules["s2s_cli.db"].forget_created()
        try:
            result = self._invoke(ctx)
        except Exit as exc:
            if exc.exit_code != 0:
                _undo_created()
            elif "s2s_cli.db" in sys.modules:
                sys.modules["s2s_cli.db"].forget_created()
            raise
        except BaseException:
            _undo_created()
            raise
        db = sys.modules.get("s2s_cli.db")
        if db is not None:
            db.forget_created()
        return result

    def _invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise _one_line(exc) from None
        except (ClickException, Exit, Abort):
            raise
        except BrokenPipeError:
            _silence_stdout()
            raise Exit(0) from None
        except KeyboardInterrupt:
            typer.echo("Interrupted: nothing was written by the unfinished step.", err=True)
            raise Exit(130) from None
        except Exception as exc:
            if os.environ.get("S2S_RAISE_ERRORS"):
                raise
            from s2s_cli.errors import S2SError

            raise S2SError(_describe(exc, ctx)) from None


def _refuse_undecodable(args: list[str]) -> None:
    """A command line holding bytes that are not UTF-8 (`--as $'caf\\xe9'`: Python hands them
    over as lone surrogates, which no database, file or terminal can take): one line, exit 2,
    before anything runs."""
    for i, arg in enumerate(args):
        if isinstance(arg, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in arg):
            from s2s_cli.errors import InvalidInput

            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            before = args[i - 1] if i else ""
            option = (arg.split("=", 1)[0] if arg.startswith("-") and "=" in arg else
                      before if before.startswith("-") and not any(
                          0xD800 <= ord(c) <= 0xDFFF for c in before) else None)
            where = f"{option} " if option else ""
            raise InvalidInput(f"{where}'{shown}' is not valid UTF-8 text: s2s takes UTF-8 only "
                               "(check the terminal's or the script's encoding)")


def _undo_created() -> None:
    """A refused command leaves no new database (or folder) behind."""
    db = sys.modules.get("s2s_cli.db")
    if db is not None and db.CREATED:
        db.remove_created()


def _one_line(exc: UsageError) -> ClickException:
    """Click's usage errors print four lines (usage, hint, blank, error): make them one."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # `s2s request` alone shows its help
        return exc
    from s2s_cli.errors import InvalidInput

    where = exc.ctx.command_path if exc.ctx is not None else "s2s"
    return InvalidInput(f"{exc.format_message()} (see '{where} --help')")


def _silence_stdout() -> None:
    """The reader went away (`s2s ... | head`): stop Python complaining at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _driver_error(exc: Exception) -> bool:
    """An error straight from a database driver (the light paths use sqlite3, psycopg2 or
    psycopg without SQLAlchemy, which would wrap it and keep it as `.orig`)."""
    module = type(exc).__module__
    return module == "sqlite3" or module.split(".")[0] in ("psycopg2", "psycopg")


def _describe(exc: Exception, ctx: Context | None = None) -> str:
    name = type(exc).__name__
    orig = getattr(exc, "orig", None)
    if orig is None and _driver_error(exc):
        orig = exc  # said as the SQLAlchemy path says it, whichever path met it
    if orig is not None:
        text = str(orig).strip().splitlines()[0] if str(orig).strip() else name
        if "locked" in text or "busy" in text or "lock timeout" in text:
            from s2s_cli.errors import BUSY_MESSAGE

            return BUSY_MESSAGE
        where = _database_named(ctx)
        if "disk is full" in text or "disk full" in text:
            return f"the disk holding {where} is full; nothing was written" if where else (
                "the database's disk is full; nothing was written")
        return f"database error: {text}{f' ({where})' if where else ''}; nothing was written"
    if isinstance(exc, OSError):
        filename = exc.filename or _file_being_written(exc)
        what = exc.strerror or name
        if exc.errno == errno.ENOSPC:
            what = "no space left on the device (the disk is full)"
        return f"{what}: {filename}; nothing was written" if filename else what
    return f"unexpected {name}: {exc}"


def _database_named(ctx: Context | None) -> str | None:
    state = getattr(ctx.find_root(), "obj", None) if ctx is not None else None
    target = getattr(state, "target", None)
    if not target:
        return None
    from s2s_cli import location

    return location.describe(target)


def _file_being_written(exc: BaseException) -> str | None:
    """The file (or export folder) a command was writing when the OS refused: a write() that
    fails with ENOSPC carries no file name, so take it from the innermost frame of the
    command that holds one (`path`, `out`, `folder`)."""
    from pathlib import Path

    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for frame in reversed(frames):
        if not frame.f_code.co_filename.startswith(os.path.dirname(__file__)):
            continue
        for key in ("path", "out", "folder"):
            value = frame.f_locals.get(key)
            if isinstance(value, Path) or (isinstance(value, str) and value):
                return str(value)
    return None


class S2STyper(typer.Typer):
    """Builds only the command being run.  Typer turns every registered command into a click
    command (inspecting signatures and type hints) before parsing; `s2s find` needs just one
    of them, so the others are left out of that process.  `--help`, an unknown command and
    the test runner (which calls `typer.main.get_command`) still see them all."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        argv = kwargs.get("args")
        if argv is None:
            argv = args[0] if args else sys.argv[1:]
        argv = list(argv)
        at = _command_index(argv)
        name = argv[at] if at is not None else None
        commands, groups = self.registered_commands, self.registered_groups
        changed: list[tuple[typer.Typer, list[Any], list[Any]]] = []  # sub-apps, as they were
        if name is not None:
            keep_c = [c for c in commands if c.name == name]
            keep_g = [g for g in groups if g.name == name]
            if len(keep_c) + len(keep_g) == 1:
                self.registered_commands, self.registered_groups = keep_c, keep_g
            if len(keep_g) == 1 and len(keep_c) == 0 and keep_g[0].typer_instance is not None:
                sub = keep_g[0].typer_instance
                keep = _sub_command(sub, argv[at + 1:])
                if keep is not None:
                    changed.append((sub, sub.registered_commands, sub.registered_groups))
                    sub.registered_commands, sub.registered_groups = [keep], []
        elif _top_level_help(argv):
            self.registered_commands = [_listed(c) for c in commands]
            for group in groups:
                sub = group.typer_instance
                if sub is not None:
                    changed.append((sub, sub.registered_commands, sub.registered_groups))
                    sub.registered_commands, sub.registered_groups = [], []
        try:
            return super().__call__(*args, **kwargs)
        finally:
            self.registered_commands, self.registered_groups = commands, groups
            for sub, sub_commands, sub_groups in changed:
                sub.registered_commands, sub.registered_groups = sub_commands, sub_groups


def _sub_command(sub: typer.Typer, rest: list[str]) -> Any | None:
    """The one command of a group (`s2s request show 4`) a command line runs, when it can be
    told from the word after the group's name: a sub-command's name, or, for a group that
    routes anything else to a default command (`s2s log 4 ...`: `add`), that one.  None (build
    them all) for help, an option first, a nested group or a name that is not there."""
    if not rest or rest[0].startswith("-"):
        return None
    word = rest[0]
    if any(g.name == word for g in sub.registered_groups):
        return None
    named = [c for c in sub.registered_commands if c.name == word]
    if len(named) == 1:
        return named[0]
    if any(c.name is None for c in sub.registered_commands):  # named by its function: unknown
        return None
    default = getattr(sub.info.cls, "default_command", None)
    fallback = [c for c in sub.registered_commands if default and c.name == default]
    return fallback[0] if len(fallback) == 1 else None


def _top_level_help(argv: list[str]) -> bool:
    """`s2s`, `s2s --help` (no sub-command named): the help lists each command by its name and
    first line only, so none of their options need building (~50 ms for ~70 commands).  Not
    under shell completion, which walks every command's options."""
    if os.environ.get("_S2S_COMPLETE"):
        return False
    return not argv or any(arg in ("-h", "--help") for arg in argv)


def _listed(info: Any) -> Any:
    """A registered command as `s2s --help` lists it: its name, help, visibility and
    deprecation as registered, with a callback that takes no options (never invoked: help
    exits first)."""
    import copy

    callback = info.callback

    def listed() -> None:  # pragma: no cover - help exits before any command runs
        raise AssertionError("a command was run from the help listing")

    listed.__name__ = callback.__name__  # the command's name when none was given
    listed.__doc__ = callback.__doc__  # its help when none was given
    stand_in = copy.copy(info)
    stand_in.callback = listed
    return stand_in


_TOP_VALUE_OPTIONS = ("--db", "--as")


def _command_index(argv: list[str]) -> int | None:
    """Where the sub-command is named on a command line (after the top-level options)."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _TOP_VALUE_OPTIONS:
            i += 2
            continue
        if arg == "--":
            return i + 1 if i + 1 < len(argv) else None
        if arg.startswith("-"):
            i += 1
            continue
        return i
    return None


app = S2STyper(
    cls=S2SGroup,
    name="s2s",
    help="Broker school-to-school support: find system leaders, log requests, deploy, record "
    "days, invoice and report.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"s2s {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option(
        "--db", metavar="PATH_OR_URL",
        help="SQLite file or SQLAlchemy URL (default: $S2S_DB, else the user data folder).",
    )] = None,
    as_: Annotated[str | None, typer.Option(
        "--as", metavar="NAME", help="Who is making the change (recorded in the audit trail).",
    )] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success "
                                        "except requested data.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version.")] = False,
) -> None:
    from s2s_cli import location

    if as_ is not None:
        from s2s_cli.errors import InvalidInput
        from s2s_cli.parsing import text_problem

        problem = text_problem(as_)
        if problem:
            raise InvalidInput(f"--as {problem}")
        if not as_.strip() or len(as_) > 100:
            raise InvalidInput("--as must be a short name (up to 100 characters)")
        as_ = " ".join(as_.split())
    ctx.obj = State(target=location.resolve(db), actor=as_, quiet=quiet,
                    explicit=location.is_explicit(db))


install_light_coercion()
install_help_words()


def _register() -> None:
    from s2s_cli.cli import admin, billing, books, brokerage, directory, reports, week

    for module in (directory, brokerage, week, billing, books, reports, admin):
        module.register(app)


_register()
