"""Backups and restores.

* SQLite: the online backup API (`sqlite3.Connection.backup`) copies a consistent snapshot
  while other processes go on writing (under WAL a reader never blocks a writer).  The copy is
  written to a private temporary file (0600) beside the destination, checked, then renamed into
  place, so a half-written backup never exists under the final name.
* PostgreSQL: the server's own tool, `pg_dump`, in its custom format (restore with
  `pg_restore`).

Stdlib only at import time."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from s2s_cli import location, safefile
from s2s_cli.errors import Busy, InvalidInput, Refused, S2SError
from s2s_cli.fastdb import is_busy, lock_timeout

SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass
class BackupResult:
    path: Path
    size: int
    tool: str


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def default_backup_path(target: str) -> Path:
    path = location.sqlite_path(target)
    if path is not None:
        return path.with_name(f"{path.name}.backup-{_stamp()}.db")
    return Path.cwd() / f"s2s-backup-{_stamp()}.dump"


def _private_temp(dest: Path, before: os.stat_result | None = None) -> Path:
    """A new 0600 file beside dest, owned like the file it will replace."""
    try:
        safefile.make_private_dirs(dest.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    except OSError as exc:
        raise S2SError(f"cannot write {dest}: {exc.strerror or exc}") from exc
    try:
        os.fchmod(fd, 0o600)
        safefile.keep_owner(fd, before, dest)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    return Path(tmp)


def _discard(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def _check_dest(dest: Path, source: Path | None, *, replace: bool) -> os.stat_result | None:
    """Refuse a destination that is not a new path or a regular file (see safefile); the
    stat of the file a --force backup replaces."""
    if safefile.is_stdout(dest):
        raise InvalidInput("a backup is a file: give a file name, not '-'")
    if os.path.isdir(dest) and not os.path.islink(dest):
        raise InvalidInput(f"{dest} is a folder: give a file name for the backup")
    before = safefile.check_target(dest)
    if source is not None and before is not None and dest.resolve() == source.resolve():
        raise InvalidInput("the backup must not be the database itself")
    if not dest.parent.exists():
        raise InvalidInput(f"folder {dest.parent} does not exist")
    safefile.check_folder(dest.parent)
    if not replace and before is not None:
        raise Refused(f"{dest} exists; use --force to replace it")
    if before is not None and before.st_uid != os.geteuid() and os.geteuid() != 0:
        raise Refused(f"{dest} belongs to another user: s2s will not take it over; nothing "
                      "was written")
    return before


def _copy_sqlite(src: sqlite3.Connection, dest: Path,
                 before: os.stat_result | None = None) -> None:
    """Copy an open database into dest through the backup API, privately and atomically."""
    tmp = _private_temp(dest, before)
    try:
        out = sqlite3.connect(str(tmp))
        try:
            src.backup(out)  # all pages in one step: one consistent snapshot
            # a backup is a single self-contained file: no -wal beside it
            out.execute("PRAGMA journal_mode=DELETE")
            problem = out.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            out.close()
        if problem != "ok":
            raise S2SError(f"the copy failed its integrity check ({problem}); nothing was "
                           "written")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        safefile.replace(tmp, dest, before)
    except BaseException:
        _discard(tmp)
        raise


def backup_sqlite(target: str, dest: Path | None, *, force: bool = False) -> BackupResult:
    """Back up to dest (an existing file is replaced only with force), or to a new
    timestamped file beside the database."""
    source = location.sqlite_path(target)
    if source is None:
        raise InvalidInput("an in-memory database cannot be backed up")
    if not source.is_file() or source.stat().st_size == 0:
        raise InvalidInput(f"no database at {source} to back up")
    replace = force or dest is None  # the default name is new each second
    dest = dest or default_backup_path(target)
    before = _check_dest(dest, source, replace=replace)
    try:
        wait = lock_timeout()
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=wait)
        src.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
    except sqlite3.Error as exc:
        raise S2SError(f"cannot open {source}: {exc}") from exc
    try:
        _copy_sqlite(src, dest, before)
    except sqlite3.DatabaseError as exc:
        if is_busy(exc):
            raise Busy() from exc
        raise S2SError(f"backup failed: {exc}; nothing was written") from exc
    finally:
        src.close()
    return BackupResult(dest, dest.stat().st_size, "sqlite3 online backup")


def _libpq_url(target: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq tools take it (no SQLAlchemy driver; password in the environment, never
    on the command line)."""
    from sqlalchemy.engine import make_url

    url = make_url(target)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql")._replace(password=None)
    return plain.render_as_string(hide_password=False), env


def backup_postgres(target: str, dest: Path | None, *, force: bool = False) -> BackupResult:
    tool = shutil.which("pg_dump")
    if tool is None:
        raise S2SError("pg_dump is not on PATH: install the PostgreSQL client tools "
                       "(e.g. `apt-get install postgresql-client`) to back up a server database")
    replace = force or dest is None
    dest = dest or default_backup_path(target)
    before = _check_dest(dest, None, replace=replace)
    url, env = _libpq_url(target)
    tmp = _private_temp(dest, before)
    try:
        proc = subprocess.run([tool, "--format=custom", "--no-owner", f"--file={tmp}", url],
                              env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            detail = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise S2SError(f"pg_dump failed: {detail}; nothing was written")
        os.chmod(tmp, 0o600)  # pg_dump may have recreated it
        safefile.replace(tmp, dest, before)
    except BaseException:
        _discard(tmp)
        raise
    return BackupResult(dest, dest.stat().st_size, "pg_dump (custom format)")


def backup(target: str, dest: Path | None, *, force: bool = False) -> BackupResult:
    """`s2s db backup`: refuses to replace an existing file at dest unless force."""
    if location.sqlite_path(target) is not None or not location.is_url(target):
        return backup_sqlite(target, dest, force=force)
    if target.startswith("postgresql"):
        return backup_postgres(target, dest, force=force)
    raise InvalidInput(f"cannot back up {location.describe(target)}: only SQLite files and "
                       "PostgreSQL are supported")


# --- restore -----------------------------------------------------------------------------


def verify_backup(path: Path) -> str:
    """Check that path is an s2s SQLite database in good order; its schema revision."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    with open(path, "rb") as handle:
        if handle.read(16) != SQLITE_MAGIC:
            raise InvalidInput(f"{path} is not an SQLite database")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise InvalidInput(f"cannot open {path}: {exc}") from exc
    try:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError as exc:
            raise InvalidInput(f"{path} is not an s2s database (no schema version)") from exc
        if row is None:
            raise InvalidInput(f"{path} is not an s2s database (no schema version)")
        rev = str(row[0])
        if rev not in location.SCHEMA_REVISIONS:
            raise Refused(f"{path} has schema {rev}, newer than this s2s knows "
                          f"({location.SCHEMA_HEAD}): upgrade s2s first")
        problems = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise Refused(f"{path} fails its integrity check ({problems[0]}); not restored")
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"{path} is not a usable SQLite database: {exc}") from exc
    finally:
        conn.close()
    return rev


def _schema(conn: sqlite3.Connection) -> dict[str, object]:
    """The structure of a SQLite database: per table its columns, foreign keys and indexes,
    and every trigger's normalised text."""
    out: dict[str, object] = {}
    for kind, name, sql in conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
            "AND type IN ('table', 'trigger') ORDER BY name"):
        if kind == "trigger":
            out[f"trigger {name}"] = " ".join(str(sql or "").lower().split())
            continue
        q = name.replace('"', '""')
        cols = tuple((r[1], str(r[2]).upper(), bool(r[3]), int(r[5]))
                     for r in conn.execute(f'PRAGMA table_info("{q}")'))
        fks = tuple(sorted((str(r[2]), str(r[3]), str(r[4]))
                           for r in conn.execute(f'PRAGMA foreign_key_list("{q}")')))
        idx = []
        for r in conn.execute(f'PRAGMA index_list("{q}")'):
            iq = str(r[1]).replace('"', '""')
            idx.append((str(r[1]) if r[3] != "pk" else "(primary key)", bool(r[2]),
                        tuple(str(c[2]) for c in conn.execute(f'PRAGMA index_info("{iq}")'))))
        out[f"table {name}"] = (cols, fks, tuple(sorted(idx)))
    return out


def _schema_findings(have: dict[str, object], want: dict[str, object]) -> list[str]:
    found = []
    for kind in ("table", "trigger"):
        missing = [k.split(" ", 1)[1] for k in want if k.startswith(kind) and k not in have]
        if missing:
            found.append(f"{kind}{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                         f"{'are' if len(missing) > 1 else 'is'} missing")
    found += [f"{key} is not part of the s2s schema" for key in have if key not in want]
    for key in want:
        if key in have and have[key] != want[key]:
            if key.startswith("table "):
                hc, hf, hi = have[key]  # type: ignore[misc]
                wc, wf, wi = want[key]  # type: ignore[misc]
                what = ("columns" if hc != wc else "foreign keys" if hf != wf else "indexes")
                found.append(f"{key} has other {what} than the schema")
            else:
                found.append(f"{key} differs from the schema")
    return found


def _forget_engines(folder: Path) -> None:
    """Close and forget the engines opened on scratch files under folder."""
    from s2s_cli import db

    for key in [k for k in db._ENGINES if str(folder) in k]:
        db._ENGINES.pop(key).dispose()


def reference_schema(rev: str, folder: Path) -> dict[str, object]:
    """The schema the migrations build at rev, in a scratch database under folder."""
    from s2s_cli import db

    path = folder / f"reference-{rev}.db"
    engine = db.make_engine(str(path))
    try:
        db.upgrade(engine, rev)
    finally:
        _forget_engines(folder)
    conn = sqlite3.connect(str(path))
    try:
        return _schema(conn)
    finally:
        conn.close()


def check_candidate(path: Path, rev: str) -> list[str]:
    """Everything `s2s db check` would say about the database at path, plus whether its
    schema is exactly the one the migrations build at its revision: one line per finding
    (empty when sound).  Runs on a private scratch copy (upgraded to the current schema first
    when older); path is never changed."""
    from s2s_cli import db, fastdb
    from s2s_cli.services import integrity

    with tempfile.TemporaryDirectory(prefix="s2s-restore-check-") as scratch:
        folder = Path(scratch)
        os.chmod(folder, 0o700)
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            found = _schema_findings(_schema(src), reference_schema(rev, folder))
            if found:
                return [f"schema: {f}" for f in found]
            copy = sqlite3.connect(str(folder / "candidate.db"))
            try:
                src.backup(copy)
            finally:
                copy.close()
        finally:
            src.close()
        target = str(folder / "candidate.db")
        if rev != location.SCHEMA_HEAD:
            engine = db.make_engine(target)
            try:
                db.upgrade(engine)
            except Exception as exc:  # noqa: BLE001 - any failure means "not restorable"
                return [f"upgrade: the file does not upgrade to {location.SCHEMA_HEAD} "
                        f"({str(getattr(exc, 'orig', exc)).splitlines()[0]})"]
            finally:
                _forget_engines(folder)
        conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        try:
            _summary, findings = integrity.run(fastdb.sqlite_reader(conn))
        finally:
            conn.close()
        _forget_engines(folder)
        return [f"{f['check']}: {f['finding']}" for f in findings]


def _has_tables(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                                ).fetchone()[0] > 0
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return True  # something that is not an empty database: treat as precious


@dataclass
class RestoreResult:
    path: Path
    revision: str
    safety_copy: Path | None


def restore(target: str, source: Path, *, force: bool) -> RestoreResult:
    path = location.sqlite_path(target)
    if path is None:
        if target.startswith("postgresql"):
            raise Refused("s2s restores SQLite files only: restore a PostgreSQL dump with "
                          "`pg_restore --clean --dbname URL FILE` (or `psql` for a plain SQL "
                          "dump), then run `s2s db upgrade`")
        raise InvalidInput(f"cannot restore into {location.describe(target)}")
    rev = verify_backup(source)
    if path.exists() and source.resolve() == path.resolve():
        raise InvalidInput("the backup and the database are the same file")
    # the whole `db check` (and the schema at its revision) on the candidate, before anything
    # is replaced
    problems = check_candidate(source, rev)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise Refused(f"{source} fails db check with {len(problems)} finding(s): "
                      + "; ".join(problems[:3]) + more + "; nothing was restored")
    safety: Path | None = None
    if _has_tables(path):
        if not force:
            raise Refused(f"{path} already holds a database: add --force to replace it "
                          "(a copy of it is kept beside it first)")
        safety = path.with_name(f"{path.name}.before-restore-{_stamp()}.db")
        backup_sqlite(str(path), safety, force=True)
    if not path.exists():
        safefile.make_private_dirs(path.parent)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        wait = lock_timeout()
        dst = sqlite3.connect(str(path), timeout=wait)
        try:
            dst.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
            # Copy into the live file through SQLite, holding its write lock: other processes
            # see either the old database or the restored one, never a mixture.
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")
            problem = dst.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            dst.close()
    except sqlite3.DatabaseError as exc:
        if is_busy(exc):
            raise Busy() from exc
        raise S2SError(f"restore failed: {exc}"
                       + (f"; the previous database is kept at {safety}" if safety else "")
                       ) from exc
    finally:
        src.close()
    if problem != "ok":
        raise S2SError(f"the restored database fails its check ({problem})"
                       + (f"; the previous database is kept at {safety}" if safety else ""))
    os.chmod(path, 0o600)
    return RestoreResult(path, rev, safety)
