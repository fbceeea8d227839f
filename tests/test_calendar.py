"""Calendars: leaders and schools subscribe to an .ics file a cron job rewrites.  Read back with
the icalendar library: one event per session with the school's name and address, the leader,
the work and the coordinator; stable UIDs; cancelled sessions as cancelled events; the same
data gives the same bytes."""

from __future__ import annotations

import datetime as dt

import pytest
from icalendar import Calendar

TODAY = "2026-11-25"
LATER = {"S2S_TODAY": "2026-12-10"}


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_TODAY", TODAY)


@pytest.fixture
def diary(mini):
    """Amira Okafor (L9001) coaching at Bolton High School (deployment 1) and Ben Hallam
    (L9002) at Plymouth Sound Academy (deployment 2): sessions planned, one worked, one
    moved, one cancelled, and a day logged without a plan."""
    for urn, leader in (("131543", "L9001"), ("131545", "L9002")):
        rid = mini.json("request", "log", "--school", urn, "--need", "achievement",
                        "--days", "10")["id"]
        mini("deploy", str(rid), "--leader", leader, "--start", "2026-11-02", "--end",
             "2027-03-31", "--work", "coaching", ok=True)
    mini("log", "1", "--date", "2026-11-24", ok=True)                       # day log 1
    mini("plan", "1", "--date", "2026-12-01", "--note", "Year 9 maths", ok=True)  # 1
    mini("plan", "1", "--date", "2026-12-02", "--half", ok=True)            # 2
    mini("plan", "1", "--date", "2026-12-03", ok=True)                      # 3
    mini("plan", "2", "--date", "2026-12-01", ok=True)                      # 4
    mini("plan", "move", "3", "--to", "2026-12-04", ok=True)
    mini("plan", "cancel", "4", "--reason", "snow", ok=True)
    mini("log", "1", "--date", "2026-12-01", env=LATER, ok=True)            # confirms 1
    return mini


def events(path):  # type: ignore[no-untyped-def]
    cal = Calendar.from_ical(path.read_bytes())
    return cal, {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_a_leaders_calendar_reads_back_to_their_sessions(diary, tmp_path):
    diary("school", "edit", "131543", "--street", "1 Chorley New Road", "--town", "Bolton",
          "--postcode", "BL1 4PB", ok=True)
    out = tmp_path / "amira.ics"
    result = diary("calendar", "--leader", "l9001", "--out", str(out), ok=True)
    assert "4 event(s) written to" in result.stderr
    cal, found = events(out)
    assert str(cal["X-WR-CALNAME"]) == "Test Teaching School Alliance: Amira Okafor (L9001)"
    assert str(cal["PRODID"]) and str(cal["VERSION"]) == "2.0"
    assert sorted(found) == ["s2s-day-1@s2s", "s2s-plan-1@s2s", "s2s-plan-2@s2s",
                             "s2s-plan-3@s2s"]
    worked = found["s2s-plan-1@s2s"]
    assert worked.decoded("DTSTART") == dt.date(2026, 12, 1)
    assert worked.decoded("DTEND") == dt.date(2026, 12, 2)  # all day
    assert str(worked["SUMMARY"]) == "Bolton High School: Amira Okafor (coaching)"
    assert str(worked["LOCATION"]) == "Bolton High School, 1 Chorley New Road, Bolton, BL1 4PB"
    assert str(worked["STATUS"]) == "CONFIRMED"
    text = str(worked["DESCRIPTION"])
    for line in ("Leader: Amira Okafor (L9001, SLE)",
                 "School: Bolton High School (URN 131543), 1 Chorley New Road, Bolton, BL1 4PB",
                 "Work: coaching (deployment 1)", "Session: worked, full day",
                 "Note: Year 9 maths", "Coordinator: Test Teaching School Alliance"):
        assert line in text
    half = found["s2s-plan-2@s2s"]
    assert str(half["SUMMARY"]) == "Bolton High School: Amira Okafor (coaching, half day)"
    assert str(half["X-S2S-DAYS"]) == "0.5" and "Session: planned, half day" in str(
        half["DESCRIPTION"])
    moved = found["s2s-plan-3@s2s"]
    assert moved.decoded("DTSTART") == dt.date(2026, 12, 4) and int(moved["SEQUENCE"]) == 1
    assert found["s2s-day-1@s2s"].decoded("DTSTART") == dt.date(2026, 11, 24)
    # the other leader's sessions are not in it
    assert all("Ben Hallam" not in str(e["SUMMARY"]) for e in found.values())


def test_cancelled_sessions_are_cancelled_events_and_uids_survive_changes(diary, tmp_path):
    out = tmp_path / "plymouth.ics"
    diary("calendar", "--school", "131545", "--out", str(out), ok=True)
    _, found = events(out)
    cancelled = found["s2s-plan-4@s2s"]
    assert str(cancelled["LOCATION"]) == "Plymouth Sound Academy, Plymouth"  # no address kept
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert str(cancelled["SUMMARY"]).startswith("Cancelled: Plymouth Sound Academy: Ben Hallam")
    assert "Session: cancelled, full day (snow)" in str(cancelled["DESCRIPTION"])
    # a session keeps its UID when it is moved, worked or cancelled; SEQUENCE rises
    before = tmp_path / "before.ics"
    diary("calendar", "--deployment", "1", "--out", str(before), ok=True)
    diary("plan", "move", "2", "--to", "2026-12-08", ok=True)
    after = tmp_path / "after.ics"
    diary("calendar", "--deployment", "1", "--out", str(after), ok=True)
    _, old = events(before)
    _, new = events(after)
    assert sorted(old) == sorted(new)
    assert new["s2s-plan-2@s2s"].decoded("DTSTART") == dt.date(2026, 12, 8)
    assert int(new["s2s-plan-2@s2s"]["SEQUENCE"]) == int(old["s2s-plan-2@s2s"]["SEQUENCE"]) + 1


def test_the_same_data_gives_the_same_bytes(diary, tmp_path):
    first, second = tmp_path / "a.ics", tmp_path / "b.ics"
    diary("calendar", "--all", "--out", str(first), ok=True)
    diary("calendar", "--all", "--out", str(second), env=LATER, ok=True)  # another day
    assert first.read_bytes() == second.read_bytes()
    _, found = events(first)
    assert len(found) == 5
    # DTSTAMP comes from the record's last change, not from the clock
    stamps = {str(u): e.decoded("DTSTAMP") for u, e in found.items()}
    assert all(s.tzinfo is not None and s.year >= 2025 for s in stamps.values())


def test_one_file_per_leader_for_cron(diary, tmp_path):
    template = tmp_path / "calendars" / "{leader}.ics"
    result = diary("-q", "calendar", "--all", "--out", str(template), ok=True)
    assert result.stderr == ""
    files = sorted(p.name for p in (tmp_path / "calendars").iterdir())
    assert files == ["L9001.ics", "L9002.ics"]
    _, amira = events(tmp_path / "calendars" / "L9001.ics")
    _, ben = events(tmp_path / "calendars" / "L9002.ics")
    assert len(amira) == 4 and sorted(ben) == ["s2s-plan-4@s2s"]
    by_school = tmp_path / "schools" / "{school}.ics"
    diary("calendar", "--leader", "L9001", "--out", str(by_school), ok=True)
    assert sorted(p.name for p in (tmp_path / "schools").iterdir()) == ["131543.ics"]


def test_the_coordinators_contact_comes_from_the_alliance_settings(cli, tmp_path):
    """The bundled seed's rate card names the alliance and its email: the organiser."""
    rid = cli.json("request", "log", "--school", "103254", "--need", "achievement",
                   "--days", "3")["id"]
    cli("deploy", str(rid), "--leader", "L0027", "--start", "2026-11-02", ok=True)
    cli("plan", "1", "--date", "2026-12-01", ok=True)
    out = tmp_path / "l0027.ics"
    cli("calendar", "--leader", "L0027", "--out", str(out), ok=True)
    _, found = events(out)
    event = found["s2s-plan-1@s2s"]
    assert str(event["ORGANIZER"]) == "mailto:accounts@example.org"
    assert str(event["ORGANIZER"].params["CN"]) == "Riverside Teaching School Alliance"
    assert ("Coordinator: Riverside Teaching School Alliance, accounts@example.org"
            in str(event["DESCRIPTION"]))


def test_an_empty_selection_writes_an_empty_calendar(mini, tmp_path):
    out = tmp_path / "none.ics"
    mini("calendar", "--leader", "L9003", "--out", str(out), ok=True)
    cal, found = events(out)
    assert found == {} and str(cal["VERSION"]) == "2.0"
    many = tmp_path / "cal" / "{leader}.ics"
    result = mini("calendar", "--all", "--out", str(many), ok=True)
    assert "no sessions: no file written" in result.stderr and not (tmp_path / "cal").exists()


@pytest.mark.parametrize(("args", "code", "message"), [
    (("--out", "x.ics"), 2, "give one of --leader ID, --school URN, --deployment ID or --all"),
    (("--leader", "L9001", "--all", "--out", "x.ics"), 2, "give one of"),
    (("--all", "--out", "x.txt"), 2, "--out must end in .ics"),
    (("--all", "--out", "{month}.ics"), 2, "unknown placeholder {month}"),
    (("--all", "--out", "{leader}-{school}.ics"), 2, "not both"),
    (("--all",), 2, "--out"),
    (("--leader", "L0000", "--out", "x.ics"), 1, "no leader with id 'L0000'"),
    (("--school", "999999", "--out", "x.ics"), 1, "no school with URN 999999"),
    (("--deployment", "99", "--out", "x.ics"), 1, "no deployment 99"),
])
def test_calendar_refusals(mini, tmp_path, monkeypatch, args, code, message):
    monkeypatch.chdir(tmp_path)
    result = mini("calendar", *args)
    assert result.exit_code == code, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.glob("*.ics"))


def test_leaders_and_schools_can_be_named_by_part_of_their_name(diary, tmp_path):
    by_id, by_name = tmp_path / "id.ics", tmp_path / "name.ics"
    diary("calendar", "--leader", "L9001", "--out", str(by_id), ok=True)
    diary("calendar", "--leader", "amira okafor", "--out", str(by_name), ok=True)
    assert by_name.read_bytes() == by_id.read_bytes()
    by_urn, by_school = tmp_path / "urn.ics", tmp_path / "school.ics"
    diary("calendar", "--school", "131545", "--out", str(by_urn), ok=True)
    diary("calendar", "--school", "plymouth sound", "--out", str(by_school), ok=True)
    assert by_school.read_bytes() == by_urn.read_bytes()
    assert (diary.json("plan", "list", "--school", "bolton high", "--status", "all")
            == diary.json("plan", "list", "--school", "131543", "--status", "all"))
    assert (diary.json("plan", "list", "--leader", "amira okafor", "--status", "all")
            == diary.json("plan", "list", "--leader", "L9001", "--status", "all"))
