"""Entry point: `s2s` and `python -m s2s_cli`.  Imports stay light so `--help` is instant."""

from __future__ import annotations


def main() -> None:
    import gc

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
    app(prog_name="s2s")


if __name__ == "__main__":
    main()
