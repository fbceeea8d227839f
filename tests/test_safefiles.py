"""Files s2s writes (`--out`, `export`, `db backup --force`, PDFs) replace only what they should:
a new path or an existing regular file.  A FIFO, a symbolic link, a device such as /dev/null or
a folder is refused with one line (cron often runs as root, where a rename would swap them for
a private file); `-` is standard output; a replaced file keeps its owner and group; folders
s2s creates are 0700 whatever the umask."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.conftest import PG_URL, Run
from tests.test_invoicing import deploy, log


def one_line_error(result, code: int = 1) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


@pytest.fixture
def issued(mini: Run) -> Run:
    dep = deploy(mini, school=131542, leader="L9003", days="3")
    log(mini, dep, "2026-09-21", "2026-09-22")
    mini("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01", ok=True)
    return mini


def writers(tmp_path: Path, target: Path) -> list[tuple[str, ...]]:
    """Every command that writes a file, aimed at target."""
    return [
        ("report", "days", "--period", "2026-27", "--format", "csv", "--out", str(target)),
        ("invoices", "show", "S2S-2026-0001", "--format", "json", "--out", str(target)),
        ("invoices", "show", "S2S-2026-0001", "--format", "pdf", "--out", str(target)),
        ("invoice", "--month", "2026-09", "--format", "csv", "--out", str(target)),
        ("leader", "export-data", "L9003", "--out", str(target)),
        ("seed", "dump", "--out", str(target)),
    ]


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def test_a_fifo_is_refused_and_left_a_fifo(issued: Run, tmp_path: Path, snapshot):
    fifo = _fifo(tmp_path)
    before = snapshot(issued.target)
    for args in writers(tmp_path, fifo):
        err = one_line_error(issued(*args))
        assert "is a FIFO" in err and "nothing was written" in err, args
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode), args
    assert snapshot(issued.target) == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_symlink_is_refused_and_what_it_points_at_untouched(issued: Run, tmp_path: Path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "out.csv"
    link.symlink_to(victim)
    for args in writers(tmp_path, link):
        err = one_line_error(issued(*args))
        assert "is a symbolic link" in err, args
        assert link.is_symlink() and victim.read_text() == "keep me"
    # a dangling link too: the rename would replace the link itself
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "nowhere")
    one_line_error(issued("report", "days", "--period", "2026-27", "--out", str(dangling)))
    assert dangling.is_symlink()


def test_dev_null_and_dev_stdout_are_refused(issued: Run, tmp_path: Path):
    for device in ("/dev/null", "/dev/stdout"):
        if not os.path.lexists(device):
            continue
        kind = os.lstat(device).st_mode
        for args in writers(tmp_path, Path(device)):
            result = issued(*args)
            assert result.exit_code == 1, (args, result.stderr)
            assert result.stderr.count("\n") == 1
            assert os.lstat(device).st_mode == kind, (device, args)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_folder_is_refused_as_bad_input(issued: Run, tmp_path: Path):
    folder = tmp_path / "reports"
    folder.mkdir()
    for args in writers(tmp_path, folder):
        err = one_line_error(issued(*args), code=2)
        assert "is a folder" in err, args
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_dash_is_standard_output(issued: Run):
    report = issued("report", "days", "--period", "2026-27", "--format", "csv", "--out", "-",
                    ok=True)
    assert report.stdout.startswith("date,") or "," in report.stdout.splitlines()[0]
    assert not Path("-").exists()
    shown = issued("invoices", "show", "S2S-2026-0001", "--format", "json", "--out", "-",
                   ok=True)
    assert json.loads(shown.stdout)
    exported = issued("leader", "export-data", "L9003", "--out", "-", ok=True)
    assert json.loads(exported.stdout)["leader"]["id"] == "L9003"
    err = one_line_error(issued("export", "--out", "-"), code=2)
    assert "folder" in err


def test_export_refuses_a_symlinked_folder_and_links_inside(issued: Run, tmp_path: Path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "export-link"
    link.symlink_to(real, target_is_directory=True)
    err = one_line_error(issued("export", "--out", str(link)))
    assert "symbolic link" in err and list(real.iterdir()) == []
    # a link planted inside the export folder is refused and the previous export stays
    out = tmp_path / "export"
    issued("export", "--out", str(out), ok=True)
    previous = (out / "invoice.csv").read_text()
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    (out / "leader.csv").unlink()
    (out / "leader.csv").symlink_to(victim)
    err = one_line_error(issued("export", "--out", str(out)))
    assert "leader.csv is a symbolic link" in err
    assert victim.read_text() == "keep me" and (out / "invoice.csv").read_text() == previous


@pytest.mark.skipif(bool(PG_URL), reason="SQLite backup API")
def test_db_backup_force_refuses_special_files(sqlite_cli: Run, tmp_path: Path):
    fifo = _fifo(tmp_path)
    victim = tmp_path / "victim.db"
    victim.write_bytes(b"precious")
    link = tmp_path / "link.db"
    link.symlink_to(victim)
    for dest in (fifo, link, Path("/dev/null")):
        kind = os.lstat(dest).st_mode
        result = sqlite_cli("db", "backup", str(dest), "--force")
        err = one_line_error(result)
        assert "regular files" in err, dest
        assert os.lstat(dest).st_mode == kind
    assert victim.read_bytes() == b"precious"


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_replaced_file_keeps_its_owner_and_group(issued: Run, tmp_path: Path):
    target = tmp_path / "shared.csv"
    target.write_text("old")
    os.chown(target, 65534, 65534)
    issued("report", "days", "--period", "2026-27", "--out", str(target), ok=True)
    st = os.stat(target)
    assert (st.st_uid, st.st_gid) == (65534, 65534)
    assert target.read_text() != "old" and stat.S_IMODE(st.st_mode) == 0o600
    if not PG_URL:
        backup = tmp_path / "nightly.db"
        backup.write_bytes(b"old")
        os.chown(backup, 65534, 65534)
        issued("db", "backup", str(backup), "--force", ok=True)
        assert (os.stat(backup).st_uid, os.stat(backup).st_gid) == (65534, 65534)


def test_folders_are_created_0700_even_with_umask_0(issued: Run, tmp_path: Path):
    old = os.umask(0)
    try:
        target = tmp_path / "a" / "b" / "days.csv"
        issued("report", "days", "--period", "2026-27", "--out", str(target), ok=True)
        pdf = tmp_path / "pdfs" / "2026" / "inv.pdf"
        issued("invoices", "show", "S2S-2026-0001", "--format", "pdf", "--out", str(pdf),
               ok=True)
        exported = tmp_path / "exports" / "today"
        issued("export", "--out", str(exported), ok=True)
    finally:
        os.umask(old)
    for folder in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "pdfs",
                   tmp_path / "pdfs" / "2026", tmp_path / "exports", exported):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder
    for f in (target, pdf, exported / "invoice.csv"):
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600, f
