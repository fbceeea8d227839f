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

from s2s_cli import location
from s2s_cli.errors import InvalidInput, Refused, S2SError

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


def _private_temp(dest: Path) -> Path:
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    except OSError as exc:
        raise S2SError(f"cannot write {dest}: {exc.strerror or exc}") from exc
    os.fchmod(fd, 0o600)
    os.close(fd)
    return Path(tmp)


def _missing_folders(dest: Path) -> list[Path]:
    """The folders above dest that do not exist yet, deepest first (created by the backup,
    removed again if it fails)."""
    missing = []
    for folder in (dest.parent, *dest.parent.parents):
        if folder.exists():
            break
        missing.append(folder)
    return missing


def _remove_folders(folders: list[Path]) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            pass


def _discard(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def _check_dest(dest: Path, source: Path | None, *, replace: bool) -> None:
    if dest.is_dir():
        raise InvalidInput(f"{dest} is a folder: give a file name for the backup")
    if source is not None and dest.exists() and dest.resolve() == source.resolve():
        raise InvalidInput("the backup must not be the database itself")
    for folder in (dest.parent, *dest.parent.parents):  # missing folders are created
        if folder.exists():
            if not folder.is_dir():
                raise InvalidInput(f"{folder} is a file, not a folder")
            break
    if not replace and (dest.exists() or dest.is_symlink()):
        raise Refused(f"{dest} exists; use --force to replace it")


def _copy_sqlite(src: sqlite3.Connection, dest: Path) -> None:
    """Copy an open database into dest through the backup API, privately and atomically."""
    tmp = _private_temp(dest)
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
        os.replace(tmp, dest)
        os.chmod(dest, 0o600)
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
    _check_dest(dest, source, replace=replace)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
        src.execute("PRAGMA busy_timeout=30000")
    except sqlite3.Error as exc:
        raise S2SError(f"cannot open {source}: {exc}") from exc
    created = _missing_folders(dest)
    try:
        _copy_sqlite(src, dest)
    except sqlite3.DatabaseError as exc:
        _remove_folders(created)
        raise S2SError(f"backup failed: {exc}; nothing was written") from exc
    except BaseException:
        _remove_folders(created)
        raise
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
    _check_dest(dest, None, replace=replace)
    url, env = _libpq_url(target)
    created = _missing_folders(dest)
    try:
        tmp = _private_temp(dest)
    except BaseException:
        _remove_folders(created)
        raise
    try:
        proc = subprocess.run([tool, "--format=custom", "--no-owner", f"--file={tmp}", url],
                              env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            detail = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise S2SError(f"pg_dump failed: {detail}; nothing was written")
        os.replace(tmp, dest)
        os.chmod(dest, 0o600)
    except BaseException:
        _discard(tmp)
        _remove_folders(created)
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
    safety: Path | None = None
    if _has_tables(path):
        if not force:
            raise Refused(f"{path} already holds a database: add --force to replace it "
                          "(a copy of it is kept beside it first)")
        safety = path.with_name(f"{path.name}.before-restore-{_stamp()}.db")
        backup_sqlite(str(path), safety, force=True)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(str(path), timeout=30)
        try:
            dst.execute("PRAGMA busy_timeout=30000")
            # Copy into the live file through SQLite, holding its write lock: other processes
            # see either the old database or the restored one, never a mixture.
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")
            problem = dst.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            dst.close()
    except sqlite3.DatabaseError as exc:
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
