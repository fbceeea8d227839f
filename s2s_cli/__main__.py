"""Entry point: `s2s` and `python -m s2s_cli`.  Imports stay light so `--help` is instant."""

from __future__ import annotations


def main() -> None:
    from s2s_cli.cli import app

    app(prog_name="s2s")


if __name__ == "__main__":
    main()
