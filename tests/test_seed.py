"""Seed loading: whole-file validation with FILE:LINE errors, one transaction, idempotent
reloads, inactive instead of deleted, and the bundled seed found by a non-editable install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import MINI

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str, name: str = "dir.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def mini_with(old: str, new: str) -> str:
    text = MINI.read_text()
    assert old in text, old
    return text.replace(old, new, 1)


@pytest.mark.parametrize("old,new,expected", [
    ("specialisms: [phonics, EYFS]", "specialisms: [phonix, EYFS]",
     "unknown specialism 'phonix' (did you mean 'phonics'?)"),
    ("    la: Bolton\n", "    la: Boltn\n",
     "unknown local authority 'Boltn' (did you mean 'Bolton'?)"),
    ("    region: North West\n", "    region: North Wset\n",
     "unknown region 'North Wset' (did you mean 'North West'?)"),
    ("    kind: NLE\n", "    kind: NLX\n", "unknown kind of leader 'NLX'"),
    ("    home_school: 131543\n", "    home_school: 131549\n",
     "unknown school URN 131549 in 'home_school'"),
    ("  - id: L9002\n", "  - id: L9001\n", "duplicate leader id L9001"),
    ("  - urn: 131543\n", "  - urn: 131542\n", "duplicate school URN 131542"),
    ("    pupils: 1100\n", "    pupils: lots\n", "'pupils' must be a whole number"),
    ("    capacity_days: 15\n", "    capacity_days: fifteen\n",
     "'capacity_days' must be a whole number"),
    ("    phase: secondary\n", "    phase: secondry\n",
     "unknown phase 'secondry' (did you mean 'secondary'?)"),
    ("    specialisms: [curriculum, assessment]\n", "    specialism: [curriculum]\n",
     "unknown leader field 'specialism' (did you mean 'specialisms'?)"),
    ("    SLE: {day: 350, half_day: 175}\n", "    SLE: {day: -350, half_day: 175}\n",
     "'day' must be an amount in pounds"),
])
def test_seed_errors_name_file_and_line(mini, tmp_path, snapshot, old, new, expected):
    text = mini_with(old, new)
    path = write(tmp_path, text)
    before = snapshot(mini.target)
    result = mini("seed", "load", path)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    hit = [ln for ln in lines if expected in ln]
    assert hit, result.stderr
    original = MINI.read_text()
    expected_line = original[: original.index(old)].count("\n") + 1
    assert hit[0].startswith(f"{path}:{expected_line}: "), (hit[0], expected_line)
    assert lines[-1].startswith("Error:") and "nothing was written" in lines[-1]
    assert "Traceback" not in result.stderr
    assert snapshot(mini.target) == before


def test_several_problems_are_listed_together(mini, tmp_path):
    text = mini_with("specialisms: [phonics, EYFS]", "specialisms: [phonix, EYFS]")
    text = text.replace("    la: Bolton\n", "    la: Nowhere\n", 1)
    text = text.replace("    kind: NLG\n", "    kind: BOSS\n", 1)
    result = mini("seed", "load", write(tmp_path, text))
    assert result.exit_code == 2
    problems = [ln for ln in result.stderr.splitlines() if ln.startswith(str(tmp_path))]
    assert len(problems) == 3
    assert "3 problem(s)" in result.stderr


def test_problem_list_is_capped(mini, tmp_path):
    text = MINI.read_text().replace("specialisms: [", "specialisms: [nonsense, ")
    extra = "".join(f"  - id: L8{i:03d}\n    name: X\n    kind: ZZZ\n    home_school: 131542\n"
                    for i in range(40))
    text = text.replace("rates:\n", extra + "rates:\n")
    result = mini("seed", "load", write(tmp_path, text))
    assert result.exit_code == 2
    problems = [ln for ln in result.stderr.splitlines() if ln.startswith(str(tmp_path))]
    assert len(problems) == 25
    assert "showing the first 25 of" in result.stderr


@pytest.mark.parametrize("text,fragment", [
    ("schools: [\n  {urn: 1\n", "malformed YAML"),
    ("leaders:\n  - id: L1\n    id: L2\n", "duplicate key 'id'"),
    ("a: &x [1, 2]\nb: *x\n", "anchors and aliases"),
    ("just a string\n", "must be a mapping"),
    ("flavour: {}\n", "unknown section 'flavour'"),
])
def test_malformed_files(mini, tmp_path, snapshot, text, fragment):
    before = snapshot(mini.target)
    result = mini("seed", "load", write(tmp_path, text))
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert f"{tmp_path}/dir.yaml:" in result.stderr
    assert snapshot(mini.target) == before


def test_non_utf8_file_reports_line(mini, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"regions:\n  - London\n  - Caf\xe9\n")
    result = mini("seed", "load", str(path))
    assert result.exit_code == 2
    assert f"{path}:3: not UTF-8 text" in result.stderr


def test_missing_file_is_bad_input(mini, tmp_path):
    result = mini("seed", "load", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_loading_twice_is_idempotent(mini, snapshot):
    before = snapshot(mini.target)
    result = mini.json("seed", "load", str(MINI))
    assert all(row["added"] == 0 and row["updated"] == 0 for row in result)
    assert snapshot(mini.target) == before  # not even an audit row


def _without_l9006(tmp_path: Path) -> str:
    text = MINI.read_text().replace("capacity_days: 20", "capacity_days: 25", 1)
    start = text.index("  - id: L9006")
    end = text.index("  - id: L9007")
    return write(tmp_path, text[:start] + text[end:])


def test_reload_updates_in_place_and_keeps_leaders_missing_from_the_file(mini, tmp_path):
    result = mini("seed", "load", _without_l9006(tmp_path), "--format", "json", ok=True)
    counts = {r["entity"]: r for r in json.loads(result.stdout)}
    assert counts["leaders"]["updated"] == 1
    assert counts["leaders"]["deactivated"] == 0
    assert "1 leader(s) not in the file, kept (L9006)" in result.stderr
    assert mini.json("leader", "show", "L9001")["capacity_days"] == 25
    assert mini.json("leader", "show", "L9006")["active"] is True
    assert "L9006" in [r["id"] for r in mini.json("find")]


def test_deactivate_missing_makes_them_inactive_never_deleted(mini, tmp_path):
    result = mini("seed", "load", _without_l9006(tmp_path), "--deactivate-missing",
                  "--format", "json", ok=True)
    counts = {r["entity"]: r for r in json.loads(result.stdout)}
    assert counts["leaders"]["deactivated"] == 1
    assert "not in the file" not in result.stderr
    gone = mini.json("leader", "show", "L9006")
    assert gone["active"] is False  # kept, not deleted
    assert "L9006" not in [r["id"] for r in mini.json("find")]


def test_reload_changes_specialisms(mini, tmp_path):
    text = MINI.read_text().replace("specialisms: [phonics, EYFS]", "specialisms: [english]", 1)
    mini("seed", "load", write(tmp_path, text), ok=True)
    assert mini.json("leader", "show", "L9001")["specialisms"] == ["english"]


def test_rate_card_is_loaded(mini):
    from sqlalchemy import create_engine, text

    target = mini.target
    url = target if "://" in target else f"sqlite:///{target}"
    engine = create_engine(url)
    with engine.connect() as conn:
        card = json.loads(conn.execute(
            text("SELECT value FROM setting WHERE key = 'rate_card'")).scalar())
    engine.dispose()
    assert card["kinds"]["SLE"] == {"day": 35000, "half_day": 17500}
    assert card["bands"][0]["kinds"]["SLE"]["day"] == 30000
    assert card["split"]["admin_percent_bp"] == 1500
    assert card["invoice"]["alliance_name"] == "Test Teaching School Alliance"


def _card(target: str) -> dict:
    from tests.conftest import query

    return json.loads(query(target, "SELECT value FROM setting WHERE key = 'rate_card'")[0][0])


def test_a_partial_rates_section_changes_only_what_it_names(mini, db, tmp_path):
    """A file with one rate (issue 11): the rest of the card - alliance name, address, other
    kinds, bands, split - stays as stored, and the load says what changed."""
    before = _card(db)
    path = write(tmp_path, "rates:\n  kinds:\n    SLE: {day: 380}\n"
                           "  invoice:\n    payment_terms_days: 14\n")
    result = mini("seed", "load", path, ok=True)
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("rates:")]
    assert lines == ["rates: changed SLE day rate £350.00 → £380.00",
                     "rates: changed SLE half-day rate £175.00 → £190.00",
                     "rates: changed payment terms 28 days → 14 days"]
    after = _card(db)
    assert after["kinds"]["SLE"] == {"day": 38000, "half_day": 19000}
    assert after["invoice"]["payment_terms_days"] == 14
    for key in ("alliance_name", "address", "number_prefix", "credit_prefix"):
        assert after["invoice"][key] == before["invoice"][key], key
    assert after["invoice"]["alliance_name"] == "Test Teaching School Alliance"
    assert {k: v for k, v in after.items() if k not in ("kinds", "invoice")} == {
        k: v for k, v in before.items() if k not in ("kinds", "invoice")}
    assert after["kinds"]["LLE"] == before["kinds"]["LLE"]
    shown = mini.json("rates")
    sle = [r for r in shown["rates"] if (r["scope"], r["name"]) == ("kind", "SLE")]
    assert sle[0]["day_pence"] == 38000
    assert "Test Teaching School Alliance" in json.dumps(shown)
    # loading the same file again: nothing changes, and it says so
    again = mini("seed", "load", path, ok=True)
    assert "rates: unchanged" in again.stderr
    assert _card(db) == after


def test_rates_may_not_blank_the_alliance_name(mini, db, tmp_path, snapshot):
    before = snapshot(db)
    path = write(tmp_path, "rates:\n  invoice:\n    alliance_name: ''\n")
    result = mini("seed", "load", path)
    assert result.exit_code == 2 and ":3: 'alliance_name' must not be empty" in result.stderr
    assert snapshot(db) == before


def test_bundled_seed_validates_cleanly():
    from s2s_cli import seed

    directory = seed.validate(seed.bundled_seed_path().read_bytes(), "bundled")
    assert len(directory.leaders) >= 120
    assert len(directory.schools) >= 80
    assert len(directory.las) >= 30
    assert sum(s["teaching_school"] or s["teaching_school_hub"] for s in directory.schools) >= 6
    assert sum(s["national_support_school"] for s in directory.schools) >= 3
    assert directory.card is not None


@pytest.mark.skipif(os.environ.get("S2S_SKIP_INSTALL_TEST") == "1",
                    reason="install test disabled by S2S_SKIP_INSTALL_TEST")
def test_non_editable_install_finds_the_bundled_seed(tmp_path):
    """`pip install .` (a real wheel, not editable) must carry data/seed_directory.yaml."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(env_dir)
    # Reuse this interpreter's site-packages for the dependencies; install only s2s itself.
    py = env_dir / "bin" / "python"
    site = subprocess.run([sys.executable, "-c", "import site; print(site.getsitepackages()[0])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                    "--target", str(target), "-q", str(ROOT)], check=True)
    env = {**os.environ, "PYTHONPATH": f"{target}:{site}", "XDG_DATA_HOME": str(tmp_path / "d")}
    env.pop("S2S_RAISE_ERRORS", None)
    env.pop("S2S_DB", None)
    out = subprocess.run([str(py), "-c", "import s2s_cli.seed as s; print(s.bundled_seed_path())"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
    assert str(target) in out.stdout
    result = subprocess.run([str(py), "-m", "s2s_cli", "find", "--specialism", "phonics",
                             "--format", "json"], capture_output=True, text=True, env=env,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) >= 3
    # the reference data ships in the package too: a named database from `db init`
    init = subprocess.run([str(py), "-m", "s2s_cli", "db", "init", str(tmp_path / "x.db")],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert init.returncode == 0, init.stderr


def test_la_code_held_by_another_authority_is_a_file_error(mini, tmp_path, snapshot):
    text = MINI.read_text().replace("  - code: 350\n    name: Bolton\n",
                                    "  - code: 202\n    name: Bolton\n", 1)
    text = text.replace("  - code: 202\n    name: Camden\n", "  - name: Camden\n", 1)
    before = snapshot(mini.target)
    result = mini("seed", "load", write(tmp_path, text))
    assert result.exit_code == 2, result.stderr
    assert f"{tmp_path}/dir.yaml:" in result.stderr and "202" in result.stderr
    assert snapshot(mini.target) == before


def test_a_change_to_the_vat_section_is_reported(mini, db, tmp_path):
    """Only the card's `vat:` changes: the load says what changed, not "rates: unchanged"."""
    first = write(tmp_path, "rates:\n  vat:\n    default: exempt\n    work:\n"
                            "      diagnosis: standard\n", "a.yaml")
    mini("seed", "load", first, ok=True)
    assert _card(db)["vat"] == {"default": "exempt", "work": {"diagnosis": "standard"}}
    second = write(tmp_path, "rates:\n  vat:\n    default: exempt\n    work:\n"
                             "      diagnosis: zero\n      coaching: standard\n", "b.yaml")
    result = mini("seed", "load", second, ok=True)
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("rates:")]
    assert lines == ["rates: changed VAT treatment of diagnosis standard → zero",
                     "rates: added VAT treatment of coaching standard"]
    assert _card(db)["vat"]["work"] == {"diagnosis": "zero", "coaching": "standard"}
    again = mini("seed", "load", second, ok=True)
    assert "rates: unchanged" in again.stderr
