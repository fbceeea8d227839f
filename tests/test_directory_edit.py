"""Keeping the directory from the command line: a coordinator adds, corrects, deactivates and
reactivates leaders, adds and corrects schools, lists them, names schools and leaders by part of
their name, and keeps the directory in YAML too (`seed dump` -> `seed load` round trip).
Every refused write leaves the database as it was; every write is in the audit trail."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.conftest import MINI, Run, query

LEADER_ADD = ("leader", "add", "--name", "Ann Lee", "--kind", "sle", "--home-school",
              "Richmond Park", "-s", "numeracy", "-s", "EYFS", "--designation",
              "Pupil Premium Reviewer", "--designated-by", "131542", "--capacity-days", "12",
              "--email", "ann.lee@example.org", "--phone", "01632 960099", "--notes",
              "Part-time on Fridays")


def audit_rows(run: Run, record: str) -> list[dict]:  # type: ignore[type-arg]
    return run.json("audit", "--record", record)


# --- leaders ----------------------------------------------------------------------------------

def test_leader_add_generates_the_next_id_and_records_everything(mini):
    result = mini(*LEADER_ADD, ok=True)
    # the bundled seed's L0001-L0132 and the test directory's L9001-L9007 are taken
    assert result.stdout.strip() == "L9008"
    shown = mini.json("leader", "show", "L9008")
    assert shown == {
        "id": "L9008", "name": "Ann Lee", "kind": "SLE", "active": True,
        "specialisms": ["early-years", "maths"], "designations": ["pupil premium reviewer"],
        "home_school_urn": 131544, "home_school": "Richmond Park Primary",
        "local_authority": "Richmond upon Thames", "region": "London", "phase": "primary",
        "designated_by_urn": 131542, "designated_by": "Brookfield Primary School",
        "email": "ann.lee@example.org", "phone": "01632 960099", "capacity_days": 12,
        "notes": "Part-time on Fridays"}
    assert "L9008" in [r["id"] for r in mini.json("find", "--specialism", "maths")]
    rows = audit_rows(mini, "L9008")
    assert {(r["table_name"], r["action"]) for r in rows} == {
        ("leader", "insert"), ("leader_specialism", "insert")}
    assert all(r["command"] == "s2s leader add" for r in rows)
    assert mini.json(*LEADER_ADD[:2], "--name", "B", "--kind", "NLG", "--home-school",
                     "131543") == {"id": "L9009"}


def test_leader_add_with_an_id(mini):
    assert mini("leader", "add", "--id", "l4242", "--name", "Zed", "--kind", "LLE",
                "--home-school", "131545", ok=True).stdout.strip() == "L4242"
    again = mini("leader", "add", "--id", "L4242", "--name", "Zed", "--kind", "LLE",
                 "--home-school", "131545")
    assert again.exit_code == 1
    assert "leader L4242 already exists" in again.stderr


def test_leader_add_refuses_with_seed_loads_own_messages(mini, tmp_path, snapshot):
    """The same bad values as a seed file entry and as options: the same messages."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("leaders:\n  - id: L9100\n    name: Ann Lee\n    kind: XLE\n"
                   "    home_school: 131542\n    specialisms: [phonix]\n"
                   "    email: not-an-email\n    capacity_days: 400\n")
    before = snapshot(mini.target)
    from_file = mini("seed", "load", str(bad))
    assert from_file.exit_code == 2
    messages = [ln.split(": ", 1)[1] for ln in from_file.stderr.splitlines()
                if ln.startswith(str(bad))]
    assert len(messages) == 4
    result = mini("leader", "add", "--name", "Ann Lee", "--kind", "XLE", "--home-school",
                  "131542", "-s", "phonix", "--email", "not-an-email", "--capacity-days",
                  "400")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    for message in messages:
        assert message in result.stderr, (message, result.stderr)
    assert "unknown specialism 'phonix' (did you mean 'phonics'?)" in result.stderr
    assert snapshot(mini.target) == before


def test_leader_edit_changes_only_what_is_given(mini, snapshot):
    mini("--as", "Pat", "leader", "edit", "L9001", "--capacity-days", "25", "--phone", "",
         "--add-specialism", "maths", "--remove-specialism", "EYFS", "--home-school",
         "richmond park", ok=True)
    shown = mini.json("leader", "show", "L9001")
    assert shown["capacity_days"] == 25 and shown["phone"] is None
    assert shown["specialisms"] == ["maths", "phonics"]
    assert shown["home_school_urn"] == 131544
    assert shown["email"] == "amira.okafor@example.org"  # untouched
    rows = [r for r in audit_rows(mini, "L9001") if r["command"] == "s2s leader edit"]
    assert all(r["actor"] == "Pat" for r in rows)
    update = next(r for r in rows if r["table_name"] == "leader")
    assert update["before"] == {"capacity_days": 20, "phone": "01632 960001",
                                "home_school_urn": 131542}
    assert update["after"] == {"capacity_days": 25, "phone": None, "home_school_urn": 131544}
    assert {(r["action"], r["record_id"]) for r in rows if r["table_name"] ==
            "leader_specialism"} == {("insert", "L9001/maths"), ("delete", "L9001/early-years")}
    # replacing the whole set, and an edit that changes nothing writes nothing
    mini("leader", "edit", "amira okafor", "-s", "english", "--designation", "", ok=True)
    assert mini.json("leader", "show", "L9001")["specialisms"] == ["english"]
    before = snapshot(mini.target)
    same = mini("leader", "edit", "L9001", "--capacity-days", "25", ok=True)
    assert "nothing to change" in same.stderr
    assert snapshot(mini.target) == before


@pytest.mark.parametrize("args,code,message", [
    (("L9001", "--remove-specialism", "maths"), 2, "L9001 does not hold the specialism 'maths'"),
    (("L9001", "--name", ""), 2, "missing 'name'"),
    (("L9001", "--kind", "boss"), 2, "unknown kind of leader 'boss'"),
    (("L9001", "--home-school", "999999"), 2, "unknown school URN 999999 in 'home_school'"),
    (("L0404", "--phone", "1"), 1, "no leader with id 'L0404'"),
])
def test_leader_edit_refusals_change_nothing(mini, snapshot, args, code, message):
    before = snapshot(mini.target)
    result = mini("leader", "edit", *args)
    assert result.exit_code == code, result.stderr
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert snapshot(mini.target) == before


def test_deactivate_and_activate(mini, snapshot):
    mini("leader", "deactivate", "Ben Hallam", ok=True)
    assert mini.json("leader", "show", "L9002")["active"] is False
    assert "L9002" not in [r["id"] for r in mini.json("find")]
    before = snapshot(mini.target)
    again = mini("leader", "deactivate", "L9002", ok=True)
    assert "already inactive" in again.stderr
    assert snapshot(mini.target) == before
    mini("leader", "activate", "l9002", ok=True)
    assert "L9002" in [r["id"] for r in mini.json("find")]
    assert [(r["before"], r["after"]) for r in audit_rows(mini, "L9002")
            if r["command"].startswith("s2s leader ")] == [
        ({"active": True}, {"active": False}), ({"active": False}, {"active": True})]


def test_an_erased_leader_stays_erased(mini, snapshot):
    mini("leader", "erase", "L9006", "--confirm", ok=True)
    before = snapshot(mini.target)
    for args, word in ((("leader", "activate", "L9006"), "cannot be made active"),
                       (("leader", "edit", "L9006", "--phone", "1"), "cannot be edited")):
        result = mini(*args)
        assert result.exit_code == 1 and word in result.stderr
    assert snapshot(mini.target) == before
    # the file still holds their details and lists them as active: nothing comes back
    for extra in ((), ("--deactivate-missing",)):
        mini("seed", "load", str(MINI), *extra, ok=True)
        shown = mini.json("leader", "show", "L9006")
        assert shown["name"] == "[erased L9006]" and shown["active"] is False
        assert shown["email"] is None and shown["phone"] is None


# --- schools ----------------------------------------------------------------------------------

SCHOOL_ADD = ("school", "add", "--urn", "102345", "--name", "Marsh Lane Primary", "--la",
              "camden", "--phase", "Primary", "--type", "Academy", "--trust", "Northern "
              "Lights Trust", "--pupils", "240", "--street", "1 Marsh Lane", "--locality",
              "Gospel Oak", "--address3", "Block B", "--town", "London", "--county",
              "Greater London", "--postcode", "NW3 2AA", "--phone", "020 7946 0000",
              "--website", "https://marshlane.example.org", "--headteacher", "Sam Obi",
              "--finance-contact", "Jo Price", "--finance-email",
              "finance@marshlane.example.org", "--po-required")


def test_school_add_show_and_edit(mini, snapshot):
    assert mini(*SCHOOL_ADD, ok=True).stdout.strip() == "102345"
    shown = mini.json("school", "show", "marsh lane")
    assert {k: v for k, v in shown.items() if k != "leaders"} == {
        "urn": 102345, "name": "Marsh Lane Primary", "local_authority": "Camden",
        "region": "London", "phase": "primary", "type": "academy",
        "trust": "Northern Lights Trust", "pupils": 240, "ofsted": None,
        "postcode": "NW3 2AA", "status": "open", "teaching_school": False,
        "teaching_school_hub": False, "national_support_school": False,
        "street": "1 Marsh Lane", "locality": "Gospel Oak", "address3": "Block B",
        "town": "London", "county": "Greater London", "phone": "020 7946 0000",
        "website": "https://marshlane.example.org", "headteacher": "Sam Obi",
        "finance_contact": "Jo Price", "finance_email": "finance@marshlane.example.org",
        "po_required": True, "trust_uid": None, "trust_type": None, "easting": None,
        "northing": None, "report_card": None, "inspections": []}
    assert [r["action"] for r in audit_rows(mini, "102345")] == ["insert"]
    mini("school", "edit", "102345", "--no-po-required", "--locality", "", "--la",
         "richmond", "--headteacher", "Kim Ode", ok=True)
    shown = mini.json("school", "show", "102345")
    assert (shown["po_required"], shown["locality"], shown["local_authority"],
            shown["headteacher"], shown["town"]) == (
        False, None, "Richmond upon Thames", "Kim Ode", "London")
    update = audit_rows(mini, "102345")[-1]
    assert update["command"] == "s2s school edit" and update["action"] == "update"
    assert update["before"]["headteacher"] == "Sam Obi"
    assert update["after"]["po_required"] is False
    before = snapshot(mini.target)
    again = mini("school", "edit", "Marsh Lane", "--headteacher", "Kim Ode", ok=True)
    assert "nothing to change" in again.stderr
    assert snapshot(mini.target) == before


@pytest.mark.parametrize("change,code,message", [
    (("--phase", "secondry"), 2, "unknown phase 'secondry' (did you mean 'secondary'?)"),
    (("--type", "acadmy"), 2, "unknown school type 'acadmy' (did you mean 'academy'?)"),
    (("--la", "Boltn"), 2, "unknown local authority 'Boltn' (did you mean 'Bolton'?)"),
    (("--finance-email", "finance"), 2, "'finance' is not an email address"),
    (("--pupils", "20000"), 2, "'pupils' must be between 0 and 10000, not 20000"),
    (("--name", ""), 2, "missing 'name'"),
])
def test_school_refusals_change_nothing(mini, snapshot, change, code, message):
    before = snapshot(mini.target)
    for args in (("school", "edit", "131543", *change),
                 ("school", "add", "--urn", "100001", "--name", "X", "--la", "Camden",
                  "--phase", "primary", *change)):
        result = mini(*args)
        assert result.exit_code == code, (args, result.stderr)
        assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert snapshot(mini.target) == before
    taken = mini("school", "add", "--urn", "131542", "--name", "X", "--la", "Camden",
                 "--phase", "primary")
    assert taken.exit_code == 1 and "school 131542 already exists" in taken.stderr
    assert snapshot(mini.target) == before


SCHOOL_LIST_KEYS = ["urn", "name", "local_authority", "region", "phase", "type", "trust",
                    "pupils", "town", "postcode", "status", "po_required", "active_leaders"]


def test_school_list_filters_and_formats(mini):
    rows = mini.json("school", "list", "--region", "london", "--phase", "primary")
    assert [r["urn"] for r in rows if r["urn"] in range(131542, 131546)] == [131542, 131544]
    assert all(r["region"] == "London" and r["phase"] == "primary" for r in rows)
    assert list(rows[0]) == SCHOOL_LIST_KEYS
    mine = {r["urn"]: r for r in rows}
    assert mine[131544]["active_leaders"] == 2  # L9002 and L9004 are based there
    assert [r["urn"] for r in mini.json("school", "list", "--la", "RICHMOND", "--type",
                                        "voluntary aided school")] == [131544]
    assert [r["name"] for r in mini.json("school", "list", "--name", "sound")] == [
        "Plymouth Sound Academy"]
    out = mini("school", "list", "--la", "plymouth", "--format", "csv", ok=True).stdout
    table = list(csv.reader(io.StringIO(out)))
    assert table[0] == SCHOOL_LIST_KEYS
    assert ["131545", "Plymouth Sound Academy"] == table[1][:2] or any(
        r[:2] == ["131545", "Plymouth Sound Academy"] for r in table[1:])
    plain = mini("school", "list", "--la", "bolton", "--format", "plain", ok=True).stdout
    assert plain.splitlines()[0].split("\t") == SCHOOL_LIST_KEYS
    table_out = mini("school", "list", "--la", "bolton", "--format", "table", ok=True).stdout
    assert "Bolton High School" in table_out
    assert mini.json("school", "list", "--name", "no such school") == []
    bad = mini("school", "list", "--region", "north")
    assert bad.exit_code == 2 and "'North East', 'North West'" in bad.stderr


# --- name fragments ---------------------------------------------------------------------------

def test_schools_and_leaders_by_name_fragment_through_the_day(mini):
    rid = mini("request", "log", "--school", "bolton high", "--need", "achievement", "-s",
               "maths", "--days", "3", ok=True).stdout.strip()
    assert mini.json("request", "show", rid)["school_urn"] == 131543
    dep = mini("deploy", rid, "--leader", "ben hallam", "--days", "3", "--start", "2026-09-14",
               ok=True).stdout.strip()
    assert mini.json("deployment", "show", dep)["leader_id"] == "L9002"
    assert [r["id"] for r in mini.json("request", "list", "--school", "Bolton")] == [int(rid)]
    assert [r["id"] for r in mini.json("deployment", "list", "--leader", "hallam",
                                       "--school", "BOLTON HIGH SCHOOL")] == [int(dep)]
    assert [r["leader_id"] for r in mini.json("capacity", "--leader", "BEN HALLAM")] == [
        "L9002"]
    assert mini.json("school", "show", "plymouth sound")["urn"] == 131545
    assert mini.json("leader", "show", "dev patel")["id"] == "L9004"
    assert {r["id"] for r in mini.json("find", "--la", "richmond")} >= {"L9002", "L9004"}


def test_several_matches_list_up_to_ten_candidates(mini, snapshot):
    before = snapshot(mini.target)
    result = mini("request", "log", "--school", "primary", "--need", "achievement")
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert line.startswith("Error: 'primary' (--school) matches ") and "\n" not in line
    assert "131542 Brookfield Primary School" in line
    assert line.count(", ") == 9 and " more; give the URN" in line  # ten shown, the rest counted
    okafor = mini("deploy", "1", "--leader", "okafor", "--days", "1")
    assert okafor.exit_code == 2
    assert "L9001 Amira Okafor" in okafor.stderr and "L9007 Grace Okafor" in okafor.stderr
    assert snapshot(mini.target) == before


def test_no_match_names_the_nearest(mini):
    result = mini("school", "show", "Brookfeld Primary")
    assert result.exit_code == 2
    assert "no school matches 'Brookfeld Primary'; nearest: " in result.stderr
    assert "131542 Brookfield Primary School" in result.stderr
    who = mini("leader", "show", "Amria Okafor")
    assert who.exit_code == 2 and "L9001 Amira Okafor" in who.stderr
    # a well-formed id or URN that is not there: not found, as before (exit 1)
    assert mini("school", "show", "999999").exit_code == 1
    assert mini("leader", "show", "L0404").exit_code == 1
    la = mini("find", "--la", "Richmnd upon Thames")
    assert la.exit_code == 2 and "(did you mean 'Richmond upon Thames'?)" in la.stderr


# --- seed dump --------------------------------------------------------------------------------

def _fresh_from(path: Path, target: str) -> None:
    """A new database holding only the file: the schema, then one seed load of it."""
    from s2s_cli import db as dbmod
    from s2s_cli import seed

    engine = dbmod.make_engine(target)
    dbmod.upgrade(engine)
    dbmod.run_write(engine, lambda s: seed.load_file(s, path), actor="test", command="test")


DIRECTORY_SQL = {
    "school": "SELECT s.*, la.name AS la_name FROM school s JOIN local_authority la "
              "ON la.id = s.la_id ORDER BY urn",
    "leader": "SELECT * FROM leader ORDER BY id",
    "leader_specialism": "SELECT * FROM leader_specialism ORDER BY leader_id, specialism_slug",
    "setting": "SELECT * FROM setting ORDER BY key",
}


def _directory(target: str) -> dict[str, list]:  # type: ignore[type-arg]
    out = {}
    for name, sql in DIRECTORY_SQL.items():
        rows = [dict(r._mapping) for r in query(target, sql)]
        for r in rows:
            r.pop("la_id", None)
            for k, v in r.items():
                if isinstance(v, int) and k in ("active", "erased", "po_required",
                                                "teaching_school", "teaching_school_hub",
                                                "national_support_school"):
                    r[k] = bool(v)
        out[name] = rows
    return out


def test_seed_dump_round_trip(mini, tmp_path):
    """load -> edit on the command line -> dump -> load the dump into a fresh database:
    the same directory, and the fresh database dumps to the same file."""
    mini(*LEADER_ADD, ok=True)
    mini(*SCHOOL_ADD, ok=True)
    mini("leader", "deactivate", "L9002", ok=True)
    mini("leader", "edit", "L9001", "--notes", "Line one: with 'quotes', # and a colon",
         ok=True)
    dumped = tmp_path / "dir" / "dump.yaml"
    result = mini("seed", "dump", "--out", str(dumped), ok=True)
    assert "wrote" in result.stderr and dumped.stat().st_mode & 0o777 == 0o600
    text = dumped.read_text()
    assert mini("seed", "dump", ok=True).stdout == text  # stdout and --out agree
    fresh = str(tmp_path / "fresh.db")
    Run(fresh)("db", "init", fresh, "--from", str(dumped), ok=True)
    assert _directory(fresh) == _directory(mini.target)
    assert Run(fresh)("seed", "dump", ok=True).stdout == text
    # and loading the dump back into its own database changes nothing
    again = {r["entity"]: r for r in mini.json("seed", "load", str(dumped))}
    assert all(r["added"] == 0 and r["updated"] == 0 for r in again.values()), again


def test_seed_dump_leaves_erased_leaders_out(mini, tmp_path):
    mini("leader", "erase", "L9005", "--confirm", ok=True)
    text = mini("seed", "dump", ok=True).stdout
    assert "L9005" not in text and "erased" not in text
    assert "id: L9004" in text


def test_seed_dump_of_a_directory_without_settings(mini, tmp_path):
    """No rate card or review policy stored: the dump has no such section, and a load of it
    stores none."""
    from s2s_cli import seed

    engine_target = str(tmp_path / "bare.db")
    src = tmp_path / "bare.yaml"
    src.write_text("local_authorities:\n  - {name: Camden, region: London}\n"
                   "schools:\n  - {urn: 100001, name: Only School, la: Camden}\n"
                   "leaders:\n  - {id: L0001, name: Only One, kind: NLG, home_school: 100001}\n")
    _fresh_from(src, engine_target)
    run = Run(engine_target)
    dumped = run("seed", "dump", ok=True).stdout
    assert "rates:" not in dumped and "reviews:" not in dumped
    assert "phase" not in dumped  # a school without a phase (as GIAS has some) survives
    doc = seed.validate(dumped.encode(), "dump")
    assert [s["urn"] for s in doc.schools] == [100001] and doc.card is None
    assert json.loads(json.dumps(doc.leaders))[0]["specialisms"] == []


def test_school_edit_trust_links_to_a_trust_record_or_unlinks(mini, snapshot, monkeypatch):
    """`--trust` never changes the name alone: '' unlinks (name and UID), a UID or name links
    to a trust record, an unknown trust is refused - so `trust show` and `--bill-to trust`
    always agree with what `school show` says."""
    from tests.test_gias_current import CURRENT, imp
    from tests.test_purchase_orders import agree

    monkeypatch.setenv("S2S_TODAY", "2027-06-30")
    imp(mini, CURRENT)  # Brookfield (131542) in Northern Lights 5001, Plymouth Sound in 5002

    def link(urn: str) -> tuple:
        shown = mini.json("school", "show", urn)
        return shown["trust"], shown["trust_uid"], shown["trust_type"]

    def members(uid: str) -> list:
        return [r["urn"] for r in mini.json("trust", "show", uid)["schools"]]

    assert link("131542")[:2] == ("Northern Lights Trust", "5001")
    mini("school", "edit", "131542", "--trust", "", ok=True)
    assert link("131542") == (None, None, None)
    assert 131542 not in members("5001")
    refused = mini("request", "log", "--school", "131542", "--need", "achievement",
                   "--bill-to", "trust")
    assert refused.exit_code == 1 and "belongs to no trust" in refused.stderr
    update = audit_rows(mini, "131542")[-1]
    assert update["action"] == "update" and update["before"]["trust_uid"] == "5001"
    assert update["after"]["trust_uid"] is None and update["after"]["trust"] is None

    mini("school", "edit", "131542", "--trust", "5002", ok=True)  # by UID
    assert link("131542") == ("Tamar Learning Trust", "5002", link("131545")[2])
    assert 131542 in members("5002")
    dep = agree(mini, 131542, "L9002", "--bill-to", "trust")
    assert mini.json("deployment", "show", str(dep))["payer_trust_uid"] == "5002"
    got = mini("school", "edit", "131542", "--trust", "northern lights trust", ok=True)  # name
    assert "changed trust" in got.stderr
    assert link("131542")[:2] == ("Northern Lights Trust", "5001")

    before = snapshot(mini.target)
    unknown = mini("school", "edit", "131542", "--trust", "Some New Trust")
    assert unknown.exit_code == 1 and "no trust with UID or name" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1
    again = mini("school", "edit", "131542", "--trust", "5001", ok=True)
    assert "nothing to change" in again.stderr
    assert snapshot(mini.target) == before
