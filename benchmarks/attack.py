"""The attack figures: hundreds of hostile inputs and a few SIGKILLs mid-write, one command.

    .venv/bin/python benchmarks/attack.py            # SQLite, in a temporary folder
    .venv/bin/python benchmarks/attack.py --pg URL   # PostgreSQL (the database is reset!)

Builds one database with the real commands (a request, a deployment, logged days, an issued
invoice), then

1. runs the hostile-input catalogue of tests/test_hostile_input.py plus generated cases
   (every free-text option with control, C1, DEL, bidi, line-separator, invisible-only, SQL,
   non-UTF-8 and oversized values; every numeric option with Unicode digits, YAML-1.1-looking
   numbers, signs, huge and fractional values; seed files with each of those in each field)
   through the CLI in-process, as a user runs it (no S2S_RAISE_ERRORS), comparing a dump of the
   database before and after every refused command;
2. SIGKILLs `s2s seed load`, `s2s invoice --issue` and `s2s log` child processes at several
   points mid-write, then checks `s2s db check` and that everything committed before survives.

Prints: inputs tried, tracebacks seen, "unexpected" errors, refused commands that changed
data, faults injected, data lost (and the exit-code mismatches against the catalogue)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEXT_OPTIONS = [  # (args before the value, the option, args after)
    (("request", "log", "--school", "131543", "--need", "achievement"), "--note", ()),
    (("request", "log", "--school", "131543", "--need", "achievement"), "--contact", ()),
    (("request", "log", "--school", "131543", "--need", "achievement", "--funding", "grant"),
     "--funder", ()),
    (("log", "1", "--date", "2026-09-15"), "--note", ()),
    (("deploy", "1", "--leader", "L9001", "--days", "2", "--start", "2026-09-01"),
     "--override", ()),
    (("evaluate", "1", "--by", "school", "--rating", "4"), "--impact", ()),
    (("invoices", "void", "S2S-2026-0001"), "--reason", ()),
    (("request", "cancel", "1"), "--reason", ()),
    (("find",), "--name", ()),
    (("audit",), "--record", ()),
    ((), "--as", ("leader", "erase", "L9001", "--confirm")),
]
NUMBER_OPTIONS = [
    (("request", "log", "--school"), ("--need", "achievement")),
    (("request", "log", "--school", "131543", "--need", "achievement", "--days"), ()),
    (("deploy", "1", "--leader", "L9001", "--start", "2026-09-01", "--days"), ()),
    (("deploy", "1", "--leader", "L9001", "--days", "2", "--start", "2026-09-01", "--rate"),
     ()),
    (("school", "show"), ()),
    (("find", "--limit"), ()),
    (("evaluate", "1", "--by", "school", "--impact", "x", "--rating"), ()),
    (("reviews", "due", "--within"), ()),
    (("log", "1", "--date"), ()),
    (("invoice", "--month"), ()),
]
HOSTILE_TEXT = {
    "nul": "a\x00b", "esc": "bad\x1b[2Jtext", "bell": "x\x07", "c1-nel": "a\x85b",
    "c1-csi": "a\x9bb", "del": "a\x7fb", "rlo": "Ben\u202eevil", "lre": "a\u202ab",
    "pdf": "a\u202cb", "lri": "a\u2066b", "pdi": "a\u2069b", "fsi": "a\u2068b",
    "line-sep": "a\u2028b", "para-sep": "a\u2029b", "zwsp-only": "\u200b\u200b",
    "zwj-only": "\u200d", "word-joiner-only": "\u2060", "bom-only": "\ufeff",
    "non-utf8": "caf\udce9", "newline": "a\nb", "cr": "a\rb", "long": "x" * 5000,
    "blank": "   ",
}
HOSTILE_NUMBERS = {
    "arabic": "\u0663\u0665\u0660", "arabic-urn": "\u0661\u0663\u0661\u0665\u0664\u0663",
    "fullwidth": "\uff13\uff15\uff10", "devanagari": "\u0969\u096b\u0966",
    "superscript": "\u00b2", "sexagesimal": "1:30", "hex": "0x10", "octal": "010",
    "underscore": "1_000", "exp": "1e3", "negative": "-5", "huge": "9" * 30, "inf": "inf",
    "nan": "nan", "fraction": "0.3", "sql": "'; DROP TABLE leader; --", "empty": "",
    "space": " ", "plus": "+-1", "date-arabic": "\u0662\u0660\u0662\u0666-09-15",
}
SEED_LEADER = "leaders:\n  - id: L9001\n    name: {name}\n    kind: SLE\n    home_school: {urn}\n"


def generated_cases(tmp: Path) -> list[tuple[str, tuple[str, ...], bytes | None]]:
    """(id, args, seed file bytes or None); {seed} in args is the file."""
    out: list[tuple[str, tuple[str, ...], bytes | None]] = []
    for before, option, after in TEXT_OPTIONS:
        for label, value in HOSTILE_TEXT.items():
            out.append((f"{' '.join(before[:2]) or 'top'} {option} {label}",
                        (*([option, value] if not before else []), *before,
                         *([option, value] if before else []), *after), None))
    for before, after in NUMBER_OPTIONS:
        for label, value in HOSTILE_NUMBERS.items():
            out.append((f"{' '.join(before)} {label}", (*before, value, *after), None))
    for field, template in (("capacity_days", "    capacity_days: {v}\n"),
                            ("home_school", None), ("notes", "    notes: {v}\n"),
                            ("phone", "    phone: {v}\n")):
        values = {**{k: v for k, v in HOSTILE_NUMBERS.items() if k != "empty"},
                  **{f"text-{k}": v for k, v in HOSTILE_TEXT.items()
                     if k not in ("non-utf8", "newline", "cr", "blank")}}
        for label, value in values.items():
            quoted = value if label in ("sexagesimal", "hex", "octal", "underscore") else (
                '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"')
                + '"')
            if template is None:
                text = SEED_LEADER.format(name="A", urn=quoted)
            else:
                text = SEED_LEADER.format(name="A", urn=131542) + template.format(v=quoted)
            out.append((f"seed {field} {label}", ("seed", "load", "{seed}"),
                        text.encode("utf-8")))
        out.append((f"seed {field} nul byte", ("seed", "load", "{seed}"),
                    SEED_LEADER.format(name="A", urn=131542).encode() + b"    notes: a\x00b\n"))
    rates = {"sexagesimal": "1:30", "hex": "0x15E", "octal": "0536",
             "fullwidth": "'\uff13\uff15\uff10'", "arabic": "'\u0663\u0665\u0660'",
             "negative": "-350", "huge": "9" * 20,
             "inf": ".inf", "nan": ".nan", "fraction": "350.001"}
    for label, value in rates.items():
        out.append((f"seed rates day {label}", ("seed", "load", "{seed}"),
                    f"rates:\n  kinds:\n    SLE: {{day: {value}}}\n".encode()))
    return out


def build_world(target: str) -> None:
    from tests.conftest import MINI, Run, init_db

    if "://" in target:
        from tests.conftest import _reset_pg

        _reset_pg(target)
    init_db(target)
    run = Run(target)
    run("seed", "load", str(MINI), ok=True)
    run("request", "log", "--school", "131543", "--need", "achievement", "--specialism",
        "maths", "--days", "5", ok=True)
    run("deploy", "1", "--leader", "L9002", "--days", "5", "--start", "2026-09-14", ok=True)
    run("log", "1", "--date", "2026-09-14", ok=True)
    run("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01", ok=True)
    run("log", "1", "--date", "2026-10-05", ok=True)
    from s2s_cli import db as dbmod

    for engine in dbmod._ENGINES.values():
        engine.dispose()
    dbmod._ENGINES.clear()


def run_inputs(target: str, tmp: Path) -> dict[str, int]:
    from tests import test_hostile_input as catalogue
    from tests.conftest import Run, dump

    for name, data in catalogue.FILES.items():
        (tmp / name).write_bytes(data)
    run = Run(target)
    figures = {"inputs": 0, "tracebacks": 0, "unexpected": 0, "changed_by_refused": 0,
               "accepted": 0, "accepted_writes": 0, "code_mismatch": 0}
    pristine = tmp / "pristine"

    def restore() -> None:
        from s2s_cli import db as dbmod

        for engine in dbmod._ENGINES.values():
            engine.dispose()
        dbmod._ENGINES.clear()
        if "://" in target:
            build_world(target)  # PostgreSQL: rebuild (the database is reset first)
            return
        import shutil

        for suffix in ("-wal", "-shm"):
            Path(target + suffix).unlink(missing_ok=True)
        shutil.copyfile(pristine, target)

    if "://" not in target:
        import sqlite3

        src, dst = sqlite3.connect(target), sqlite3.connect(pristine)
        src.backup(dst)
        src.close()
        dst.close()
    problems: list[str] = []
    cases: list[tuple[str, tuple[str, ...], bytes | None, tuple[int, ...] | None, Any]] = []
    for c in catalogue.CASES:
        if c.sqlite_only and "://" in target:
            continue
        cases.append((c.id, c.args, None, c.codes, c.setup))
    cases += [(cid, args, data, None, None) for cid, args, data in generated_cases(tmp)]
    os.environ.pop("S2S_RAISE_ERRORS", None)
    import pytest

    for n, (cid, args, data, codes, setup) in enumerate(cases):
        seed = tmp / f"gen{n}.yaml"
        if data is not None:
            seed.write_bytes(data)
        argv = [a.replace("{tmp}", str(tmp)).replace("{seed}", str(seed)) for a in args]
        before = dump(target)
        with pytest.MonkeyPatch.context() as mp:
            if setup is not None:
                setup(mp)  # e.g. a small size limit instead of writing a 64 MB file
            result = run(*argv)
        after = dump(target)
        figures["inputs"] += 1
        text = result.stdout + result.stderr
        if "Traceback" in text:
            figures["tracebacks"] += 1
            problems.append(f"traceback: {cid}")
        if "unexpected" in result.stderr.lower():
            figures["unexpected"] += 1
            problems.append(f"unexpected: {cid}: {result.stderr.strip()[-200:]}")
        if result.exit_code != 0 and after != before:
            figures["changed_by_refused"] += 1
            problems.append(f"refused but changed data: {cid}")
        if result.exit_code == 0:
            figures["accepted"] += 1
            if after != before:  # a valid write (a note with a newline...): undo it, so
                figures["accepted_writes"] += 1  # every case meets the same world
                restore()
        if codes is not None and result.exit_code not in codes:
            figures["code_mismatch"] += 1
            problems.append(f"exit {result.exit_code}, catalogue says {codes}: {cid}")
    figures["problems"] = problems  # type: ignore[assignment]
    return figures


def counts(target: str) -> dict[str, int]:
    from tests.conftest import query

    return {t: int(query(target, f"SELECT count(*) FROM {t}")[0][0])
            for t in ("leader", "school", "support_request", "deployment", "day_log",
                      "invoice", "invoice_line", "audit_log")}


def kill_mid_write(target: str, tmp: Path) -> dict[str, int]:
    """SIGKILL child processes at several points of a write; then the database must pass
    `db check` and hold at least everything committed before each kill."""
    from s2s_cli import db as dbmod
    from tests.conftest import Run

    s2s = [sys.executable, "-m", "s2s_cli"]
    env = {**os.environ, "S2S_DB": target}
    env.pop("S2S_RAISE_ERRORS", None)
    big = ROOT / "data" / "seed_directory.yaml"
    jobs = [["seed", "load", str(big)],
            ["invoice", "--month", "2026-10", "--issue", "--date", "2026-11-01"],
            ["log", "1", "--from", "2026-10-06", "--to", "2026-10-09"],
            ["--as", "attack", "request", "log", "--school", "131543", "--need", "behaviour"]]
    delays = (0.15, 0.35, 0.6)
    figures = {"faults": 0, "lost": 0, "check_failed": 0}
    problems: list[str] = []
    for job in jobs:
        for delay in delays:
            for engine in dbmod._ENGINES.values():
                engine.dispose()
            dbmod._ENGINES.clear()
            before = counts(target)
            proc = subprocess.Popen([*s2s, *job], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, cwd=tmp)
            time.sleep(delay)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                figures["faults"] += 1
            proc.wait()
            after = counts(target)
            lost = [t for t in before if after[t] < before[t]]
            if lost:
                figures["lost"] += 1
                problems.append(f"rows lost after killing {' '.join(job)}: {lost}")
            check = Run(target)("db", "check")
            if check.exit_code != 0:
                figures["check_failed"] += 1
                problems.append(f"db check failed after killing {' '.join(job)}: "
                                f"{check.stderr.strip()[-200:]}")
    figures["problems"] = problems  # type: ignore[assignment]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", metavar="URL", help="attack this PostgreSQL database "
                        "(it is emptied first) instead of a SQLite file")
    parser.add_argument("--no-kill", action="store_true", help="skip the SIGKILL runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="s2s-attack-") as name:
        tmp = Path(name)
        os.environ["XDG_DATA_HOME"] = str(tmp / "xdg")
        os.environ.pop("S2S_DB", None)
        if args.pg:
            target = args.pg
        else:
            target = str(tmp / "attack.db")
        os.environ["S2S_RAISE_ERRORS"] = "1"
        build_world(target)
        started = time.monotonic()
        inputs = run_inputs(target, tmp)
        kills = ({"faults": 0, "lost": 0, "check_failed": 0, "problems": []} if args.no_kill
                 else kill_mid_write(target, tmp))
        took = time.monotonic() - started
    backend = "PostgreSQL" if args.pg else "SQLite"
    print(f"s2s attack ({backend}, {took:.0f} s)")
    print(f"  inputs tried:                    {inputs['inputs']}")
    print(f"  tracebacks seen:                 {inputs['tracebacks']}")
    print(f"  \"unexpected\" errors:             {inputs['unexpected']}")
    print(f"  refused commands that changed data: {inputs['changed_by_refused']}")
    print(f"  exit codes unlike the catalogue: {inputs['code_mismatch']}")
    print(f"  inputs accepted (exit 0):        {inputs['accepted']} ({inputs['accepted_writes']} "
          "valid writes, undone)")
    print(f"  faults injected (SIGKILL):       {kills['faults']}")
    print(f"  data lost:                       {kills['lost']}")
    print(f"  db check failures after a kill:  {kills['check_failed']}")
    for line in [*inputs["problems"], *kills["problems"]]:  # type: ignore[misc]
        print(f"  ! {line}")
    bad = (inputs["tracebacks"] + inputs["unexpected"] + inputs["changed_by_refused"]
           + kills["lost"] + kills["check_failed"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
