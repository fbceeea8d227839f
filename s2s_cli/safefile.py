"""Rules every file s2s writes follows (`--out`, `export`, `db backup`, PDFs), stdlib only.

* A target is written to a private temporary file (0600) beside it and renamed into place.
* The target must be `-` (standard output, handled by the caller), a path that does not exist
  yet, or an existing *regular file*: a symbolic link, a device (`/dev/null`, `/dev/stdout`),
  a FIFO, a socket or a folder is refused, so s2s running as root (cron) never swaps a device
  node or a link for a file of its own.  The check is made before writing and again just
  before the rename.
* A replaced file keeps its owner and group.  When that cannot be done (the file belongs to
  another user, or to a group the caller is not in, and the caller is not root) it is refused
  rather than silently taken over.
* Missing folders are created 0700, whatever the umask.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from s2s_cli.errors import InvalidInput, Refused, S2SError

STDOUT = "-"


def is_stdout(path: Path | str | None) -> bool:
    return path is not None and str(path) == STDOUT


def _kind(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def check_target(path: Path, *, what: str = "") -> os.stat_result | None:
    """The target's lstat when it is an existing regular file, None when it does not exist;
    refuses anything else.  `what` names the option in messages (e.g. '--out')."""
    label = f"{what} {path}" if what else str(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise S2SError(f"cannot write {path}: {exc.strerror or exc}") from exc
    kind = _kind(st.st_mode)
    if kind == "a folder":
        raise InvalidInput(f"{label} is a folder: give a file name")
    if kind is not None:
        raise Refused(f"{label} is {kind}: s2s writes only regular files "
                      f"(use '-' for standard output); nothing was written")
    return st


def check_folder(folder: Path, *, what: str = "") -> None:
    """A folder s2s writes files into: missing (it is created) or a real folder, never a
    symbolic link or anything else."""
    label = f"{what} {folder}" if what else str(folder)
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise S2SError(f"cannot write {folder}: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(st.st_mode):
        return
    if stat.S_ISREG(st.st_mode):
        raise InvalidInput(f"{label} is a file; give a folder")
    raise Refused(f"{label} is {_kind(st.st_mode)}: give a real folder; nothing was written")


def make_private_dirs(folder: Path) -> None:
    """Create folder and any missing parents, each 0700 regardless of the umask (folders that
    already exist are left as they are)."""
    missing: list[Path] = []
    p = folder
    while not os.path.lexists(p):
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:
            continue
        os.chmod(d, 0o700)  # mkdir's mode is filtered by the umask


def keep_owner(fd: int, before: os.stat_result | None, path: Path) -> None:
    """Give the new file (open as fd) the owner and group of the file it replaces."""
    if before is None:
        return
    if before.st_uid == os.geteuid() and before.st_gid == os.fstat(fd).st_gid:
        return
    try:
        os.fchown(fd, before.st_uid, before.st_gid)
    except PermissionError as exc:
        raise Refused(f"{path} belongs to another user or group: s2s will not take it over; "
                      "nothing was written") from exc


def prepare(path: Path, *, what: str = "") -> os.stat_result | None:
    """Check the target and create its folder; the stat of the file it will replace."""
    before = check_target(path, what=what)
    if before is not None and before.st_uid != os.geteuid() and os.geteuid() != 0:
        raise Refused(f"{path} belongs to another user: s2s will not take it over; nothing "
                      "was written")
    check_folder(path.parent)
    try:
        make_private_dirs(path.parent)
    except OSError as exc:
        raise S2SError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return before


def replace(tmp: str | Path, path: Path, before: os.stat_result | None, *,
            what: str = "") -> None:
    """Rename tmp over path, re-checking the target just before (it may have changed while
    the file was being written)."""
    now = check_target(path, what=what)
    if now is not None and (before is None or (now.st_ino, now.st_dev)
                            != (before.st_ino, before.st_dev)):
        if now.st_uid != os.geteuid() and os.geteuid() != 0:
            raise Refused(f"{path} appeared meanwhile and belongs to another user; nothing "
                          "was written")
    try:
        os.replace(tmp, path)
    except OSError as exc:
        raise S2SError(f"cannot write {path}: {exc.strerror or exc}") from exc
