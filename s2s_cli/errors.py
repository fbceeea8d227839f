"""Domain errors.  Each carries its exit code; the CLI prints one line `Error: ...` to stderr.

They subclass click's ClickException so click itself prints them and exits with the right
code, both for the console script and under typer's CliRunner."""

from __future__ import annotations

import typer

from s2s_cli.clickcompat import ClickException


class S2SError(ClickException):
    """A domain refusal: not found, over capacity, already invoiced ... (exit 1)."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        # One line, always: a message never spans lines or leaks control characters.
        message = " ".join(str(message).split())
        super().__init__(message)


class NotFound(S2SError):
    exit_code = 1


class Refused(S2SError):
    exit_code = 1


BUSY_MESSAGE = "the database is busy (another s2s or a backup holds it); try again"


class Busy(S2SError):
    """Another process held the database's write lock longer than S2S_LOCK_TIMEOUT (exit 1);
    nothing was written."""

    exit_code = 1

    def __init__(self, message: str = BUSY_MESSAGE) -> None:
        super().__init__(message)


class InvalidInput(S2SError):
    """Bad usage or bad input (exit 2)."""

    exit_code = 2


class SeedErrors(InvalidInput):
    """Several FILE:LINE problems found while validating a seed file (exit 2)."""

    def __init__(self, problems: list[str], total: int | None = None) -> None:
        self.problems = problems
        total = len(problems) if total is None else total
        more = f" (showing the first {len(problems)} of {total})" if total > len(problems) else ""
        super().__init__(f"{total} problem(s) in the seed file{more}")

    def show(self, file=None) -> None:  # type: ignore[no-untyped-def]
        for line in self.problems:
            typer.echo(line, err=True)
        typer.echo(f"Error: {self.message}; nothing was written", err=True)


class SchemaMismatch(S2SError):
    exit_code = 1
