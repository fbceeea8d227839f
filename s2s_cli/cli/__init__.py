"""The `s2s` command: a thin layer that parses options, calls one service and hands the rows
to the output layer.  Only typer and the stdlib are imported here, so `s2s --help` and the
SQLite read paths start fast; services and SQLAlchemy load inside the commands that need them."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from s2s_cli import __version__
from s2s_cli.cli.common import State, install_light_coercion
from s2s_cli.clickcompat import Abort, ClickException, Context, Exit, UsageError


class S2SGroup(TyperGroup):
    """Every error becomes one line on stderr and an exit code (0 ok, 1 refusal, 2 bad input).
    Set S2S_RAISE_ERRORS=1 to see the traceback of an unexpected error."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: Context | None = None, **extra: Any) -> Context:
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

            raise S2SError(_describe(exc)) from None


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


def _describe(exc: Exception) -> str:
    name = type(exc).__name__
    orig = getattr(exc, "orig", None)
    if orig is not None:
        text = str(orig).strip().splitlines()[0] if str(orig).strip() else name
        if "locked" in text or "busy" in text or "lock timeout" in text:
            from s2s_cli.errors import BUSY_MESSAGE

            return BUSY_MESSAGE
        return f"database error: {text}; nothing was written"
    if isinstance(exc, OSError):
        return f"{exc.strerror or name}: {exc.filename or ''}".strip()
    return f"unexpected {name}: {exc}"


class S2STyper(typer.Typer):
    """Builds only the command being run.  Typer turns every registered command into a click
    command (inspecting signatures and type hints) before parsing; `s2s find` needs just one
    of them, so the others are left out of that process.  `--help`, an unknown command and
    the test runner (which calls `typer.main.get_command`) still see them all."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        argv = kwargs.get("args")
        if argv is None:
            argv = args[0] if args else sys.argv[1:]
        name = _command_name(list(argv))
        commands, groups = self.registered_commands, self.registered_groups
        if name is not None:
            keep_c = [c for c in commands if c.name == name]
            keep_g = [g for g in groups if g.name == name]
            if len(keep_c) + len(keep_g) == 1:
                self.registered_commands, self.registered_groups = keep_c, keep_g
        try:
            return super().__call__(*args, **kwargs)
        finally:
            self.registered_commands, self.registered_groups = commands, groups


_TOP_VALUE_OPTIONS = ("--db", "--as")


def _command_name(argv: list[str]) -> str | None:
    """The sub-command named on a command line (after the top-level options), if any."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _TOP_VALUE_OPTIONS:
            i += 2
            continue
        if arg == "--":
            return argv[i + 1] if i + 1 < len(argv) else None
        if arg.startswith("-"):
            i += 1
            continue
        return arg
    return None


app = S2STyper(
    cls=S2SGroup,
    name="s2s",
    help="Broker school-to-school support: find system leaders, log requests, deploy, record "
    "days, invoice and report.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    add_completion=False,
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

    if as_ is not None and (not as_.strip() or len(as_) > 100
                            or any(ord(c) < 32 for c in as_)):
        from s2s_cli.errors import InvalidInput

        raise InvalidInput("--as must be a short name without control characters")
    ctx.obj = State(target=location.resolve(db), actor=as_, quiet=quiet,
                    explicit=location.is_explicit(db))


install_light_coercion()


def _register() -> None:
    from s2s_cli.cli import admin, billing, brokerage, directory, reports, week

    for module in (directory, brokerage, week, billing, reports, admin):
        module.register(app)


_register()
