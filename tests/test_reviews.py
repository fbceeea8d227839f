"""The review policy: the seed file's optional `reviews` section (months after the first logged
day when a progress review is due, by kind of work), how it is validated and stored, and how
`reviews due` and `report reviews` follow it."""

from __future__ import annotations

import json

import pytest

from tests.conftest import MINI, Run
from tests.test_days import deployment
from tests.test_seed import write

TODAY = "2026-10-05"  # after the days logged (deployments start on 2026-09-10)


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_TODAY", TODAY)


def with_reviews(section: str) -> str:
    return MINI.read_text().rstrip("\n") + "\nreviews:\n" + section


@pytest.mark.parametrize("section,where,expected", [
    ("  pupil-premium-reveiw: 2\n", "pupil-premium-reveiw",
     "unknown kind of work 'pupil-premium-reveiw' (did you mean 'pupil-premium-review'?)"),
    ("  governance-review: 4\n  coaching: 25\n", "coaching",
     "months for 'coaching' must be a whole number from 1 to 24, not 25"),
    ("  governance-review: 0\n", "governance-review",
     "months for 'governance-review' must be a whole number from 1 to 24, not 0"),
    ("  diagnosis: 2.5\n", "diagnosis",
     "months for 'diagnosis' must be a whole number from 1 to 24, not 2.5"),
    ("  diagnosis: three\n", "diagnosis", "must be a whole number from 1 to 24, not 'three'"),
    ("  - governance-review\n", "reviews:",
     "'reviews' must map kinds of work to months (e.g. governance-review: 4)"),
])
def test_bad_reviews_entries_name_file_and_line(mini: Run, tmp_path, snapshot, section, where,
                                                expected):
    text = with_reviews(section)
    path = write(tmp_path, text)
    before = snapshot(mini.target)
    result = mini("seed", "load", path)
    assert result.exit_code == 2
    hit = [ln for ln in result.stderr.splitlines() if expected in ln]
    assert hit, result.stderr
    line = next(i for i, ln in enumerate(text.splitlines(), 1)
                if ln.strip().startswith(where) and i > MINI.read_text().count("\n"))
    assert hit[0].startswith(f"{path}:{line}: "), (hit[0], line)
    assert "Traceback" not in result.stderr
    assert snapshot(mini.target) == before


def _policy(run: Run) -> dict[str, int] | None:
    from sqlalchemy import text

    from s2s_cli import db

    engine = db.make_engine(run.target)
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT value FROM setting WHERE key = 'review_policy'")).scalar()
    engine.dispose()
    return json.loads(raw) if raw else None


def _audits(run: Run) -> list[dict]:
    return [r for r in run.json("audit", "--table", "setting")
            if r["record_id"] == "review_policy"]


def test_policy_is_stored_idempotently_and_audited(mini: Run, tmp_path, snapshot):
    # the bundled seed carries a policy; the mini file (no section) leaves it as it is
    assert _policy(mini) == {"governance-review": 4, "pupil-premium-review": 3}
    assert [r["action"] for r in _audits(mini)] == ["insert"]
    path = write(tmp_path, with_reviews("  pupil-premium-review: 2\n  diagnosis: 6\n"))
    mini("seed", "load", path, ok=True)
    assert _policy(mini) == {"diagnosis": 6, "pupil-premium-review": 2}
    assert [r["action"] for r in _audits(mini)] == ["insert", "update"]
    before = snapshot(mini.target)
    mini("seed", "load", path, ok=True)
    assert snapshot(mini.target) == before  # unchanged: no write, not even an audit row


def test_reviews_due_follow_the_configured_months(mini: Run, tmp_path, monkeypatch):
    ppr = deployment(mini, "131543", "L9001", "3", "--work", "pupil-premium-review")
    gov = deployment(mini, "131543", "L9005", "3", "--work", "governance-review",
                     need="governance")
    dfe = deployment(mini, "131542", "L9005", "5", "--work", "pupil-premium-review",
                     need="governance", funding="dfe")
    coach = deployment(mini, "131545", "L9002", "2", "--work", "coaching")
    for did in (ppr, gov, coach):
        mini("log", str(did), "--date", "2026-10-01", ok=True)
    mini("log", str(dfe), "--date", "2026-10-02", ok=True)  # one NLG: a day each

    def due(within: str = "600") -> list[tuple[int, str]]:
        return [(r["deployment_id"], r["due"]) for r in mini.json("reviews", "due", "--within",
                                                                   within)
                if r["what"] == "progress review"]

    # the bundled policy: pupil-premium-review 3 months, governance-review 4; coaching none
    assert due() == [(ppr, "2027-01-01"), (dfe, "2027-01-02"), (gov, "2027-02-01")]
    # configured: pupil premium after 6 months, governance after 2, coaching after 1; the
    # DfE-funded NLG deployment keeps its 4-month rule (the earlier of the two)
    mini("seed", "load", write(tmp_path, with_reviews(
        "  pupil-premium-review: 6\n  governance-review: 2\n  coaching: 1\n")), ok=True)
    assert due() == [(coach, "2026-11-01"), (gov, "2026-12-01"), (dfe, "2027-02-02"),
                     (ppr, "2027-04-01")]
    # the reviews report uses the same rules
    monkeypatch.setenv("S2S_TODAY", "2026-12-15")
    rows = mini.json("report", "reviews", "-p", "2027-02")
    assert [(r["deployment_id"], r["due"], r["state"]) for r in rows
            if r["item"] == "progress review"] == [
        (coach, "2026-11-01", "overdue"), (gov, "2026-12-01", "overdue"),
        (dfe, "2027-02-02", "due")]
    assert next(r for r in rows if r["deployment_id"] == coach)["work"] == "coaching"


def test_without_a_policy_the_defaults_apply(cli: Run):
    """A database whose setting row is missing (e.g. seeded before the section existed):
    governance-review after 4 months and DfE-funded NLG work after 4, nothing else."""
    from sqlalchemy import text

    from s2s_cli import db
    from s2s_cli.services import deployments

    engine = db.make_engine(cli.target)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM setting WHERE key = 'review_policy'"))
    engine.dispose()
    assert _policy(cli) is None
    cli("seed", "load", str(MINI), ok=True)
    ppr = deployment(cli, "131543", "L9001", "3", "--work", "pupil-premium-review")
    gov = deployment(cli, "131543", "L9005", "3", "--work", "governance-review",
                     need="governance")
    for did in (ppr, gov):
        cli("log", str(did), "--date", "2026-10-01", ok=True)
    rows = cli.json("reviews", "due", "--within", "600")
    assert [(r["deployment_id"], r["due"]) for r in rows] == [(gov, "2027-02-01")]
    assert deployments.DEFAULT_REVIEW_POLICY == {"governance-review": 4}
