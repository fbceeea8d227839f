"""Entry point: `s2s` and `python -m s2s_cli`.  Imports stay light so `--help` is instant."""

from __future__ import annotations

import os
import sys


def main() -> None:
    import gc

    inherited = _open_descriptors()

    # Start-up builds some 30,000 objects (modules, functions, typer's and click's classes)
    # that live as long as the process: the cycle collector would walk them over and over
    # while they are made, and once more at exit.  Pause it while importing, then move them
    # out of its sight (gc.freeze); everything the command itself makes is collected as usual.
    gc.disable()
    try:
        from s2s_cli.cli import app
    finally:
        gc.freeze()
        gc.enable()
    try:
        app(prog_name="s2s")
    except SystemExit as done:
        if isinstance(done.code, int | None) and _nothing_left_open(inherited):
            os._exit(done.code or 0)
        raise


def _open_descriptors() -> set[str] | None:
    """The process's open file descriptors (Linux: /proc/self/fd; with the one the listing
    itself holds, the lowest free, so two listings match exactly when the same are open);
    None where that cannot be read."""
    try:
        return set(os.listdir("/proc/self/fd"))
    except OSError:
        return None


def _nothing_left_open(inherited: set[str] | None) -> bool:
    """Whether the process can end without Python's teardown (freeing every module, ~5 ms of
    a 90 ms command): only when nothing could need it - the output flushed, no exit handler
    registered, no other thread, no file or connection opened and still open (the descriptors
    are those the process started with), and SQLAlchemy never loaded (its pools close their
    connections at exit).  Otherwise the usual exit."""
    if inherited is None or "sqlalchemy" in sys.modules:
        return False
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return False
    import atexit

    if getattr(atexit, "_ncallbacks", lambda: 1)():
        return False
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        return False
    return _open_descriptors() == inherited


if __name__ == "__main__":
    main()
