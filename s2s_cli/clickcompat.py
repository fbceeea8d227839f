"""Click as typer uses it: recent typer releases vendor click as `typer._click`, older ones
depend on the `click` package.  Our exceptions must be the ones typer's main loop catches."""

from __future__ import annotations

from typer import Abort, Exit

try:
    from typer._click.core import Context
    from typer._click.exceptions import ClickException, UsageError
except ImportError:  # pragma: no cover - typer < 0.20
    from click import Context  # type: ignore[assignment]
    from click.exceptions import ClickException, UsageError  # type: ignore[assignment]

__all__ = ["Abort", "ClickException", "Context", "Exit", "UsageError"]
