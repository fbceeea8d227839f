"""Tamper evidence: the hash chain over the audit trail and the seal of each issued document.

* Each audit row carries `hash` = SHA-256 of the previous row's hash and the row's canonical
  content (its id, time, actor, command, table, record, action, before, after).  The first row
  chains to 64 zeros.  Rows are chained in id order; a writer takes the chain's tail (the last
  id and hash) inside its write transaction, under the write lock (SQLite `BEGIN IMMEDIATE`,
  PostgreSQL an advisory transaction lock), so concurrent writers chain one after the other.
* Each issued invoice and credit note carries `doc_hash` = SHA-256 of its canonical content at
  issue: the invoice row (every column but `voided_by_id`, the one later update, and
  `doc_hash`), its lines and its day links.  The seal is also written to the chain - in the
  invoice's `issue` audit row (an invoice issued by a run: its row, seal included, with what
  was written with it) or as a `seal` audit row (credit notes, and invoices issued before
  issue rows) - so rewriting a document *and* its seal still breaks the chain.
* `s2s db check` recomputes both and names the first row that does not match; it also checks
  that the triggers keeping the audit trail append-only are present and intact.

What it cannot see: someone with write access who rewrites a row and then recomputes every
later hash.  Keep the chain head (`s2s db check --format json` shows it) somewhere else - a
nightly e-mail, the backup log - and compare: a changed past changes the head.

Stdlib only (hashlib is imported here, when first needed, and nowhere on the start-up path)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

GENESIS = "0" * 64
CHAIN_LOCK_KEY = 0x5325_0003  # PostgreSQL advisory lock: the audit chain's tail

AUDIT_FIELDS = ("id", "at", "actor", "command", "table_name", "record_id", "action", "before",
                "after")
INVOICE_FIELDS = ("id", "series", "number", "seq", "year", "payer", "payer_school_urn",
                  "period_from", "period_to", "issued", "due", "subtotal_pence", "vat_pence",
                  "total_pence", "credits_invoice_id", "details", "document", "created_at")
LINE_FIELDS = ("id", "invoice_id", "deployment_id", "leader_id", "kind", "date_from",
               "date_to", "full_days", "half_days", "halves", "rate_pence",
               "half_day_rate_pence", "amount_pence", "supply_pence")
DAY_FIELDS = ("invoice_id", "day_log_id", "line_id", "halves", "kind", "amount_pence",
              "supply_pence")


# --- canonical values --------------------------------------------------------------------


def canonical_time(value: Any) -> str | None:
    """A timestamp as naive UTC to the microsecond, however the driver returned it."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="microseconds")
    return str(value)


_AS_IS = frozenset({int, str, float, type(None)})  # exactly these types: kept (not bool)


def _plain(value: Any) -> Any:
    if type(value) in _AS_IS:
        return value
    if isinstance(value, dt.datetime):
        return canonical_time(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # one for every row
_encode_str = json.encoder.encode_basestring  # how _ENCODER writes a str (C when available)


def _dumps(values: Sequence[Any]) -> str:
    return _ENCODER.encode(list(values))


def _sha256() -> Any:
    """hashlib's SHA-256 (OpenSSL: the fastest per byte, for whole chains and documents)."""
    import hashlib

    return hashlib.sha256


def _sha256_few() -> Any:
    """SHA-256 for the few rows one light write chains: the interpreter's own module (loads in
    ~0.5 ms where hashlib's OpenSSL one takes 2-5 ms; 3-5x slower per byte), else hashlib's.
    The same function (FIPS 180-4), so the same digests: a test holds the two equal."""
    try:
        from _sha256 import sha256  # CPython 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # CPython 3.12 and later
        except ImportError:
            return _sha256()
    return sha256


def link(prev: str, content: str) -> str:
    return _sha256()(f"{prev}\n{content}".encode()).hexdigest()


def audit_content(row: dict[str, Any] | Sequence[Any]) -> str:
    """The canonical content of one audit row (a dict, or values in AUDIT_FIELDS order)."""
    values = [row[k] for k in AUDIT_FIELDS] if isinstance(row, dict) else list(row)
    values[1] = canonical_time(values[1])
    values[0] = int(values[0])
    return _dumps(values)


def _item(value: Any) -> str:
    """One value of an audit row's content as `_ENCODER` writes it inside the list."""
    if value is None:
        return "null"
    if type(value) is str:
        return _encode_str(value)
    return _ENCODER.encode(value)


def seal_rows(prev: str, rows: Iterable[dict[str, Any]]) -> str:
    """Set `hash` on each row (ids already set, in order), chained from prev; the last hash.
    The content is `audit_content(row)`, written piece by piece: a batch's rows share their
    time, actor, command and table, so that part is encoded once."""
    few = isinstance(rows, list | tuple) and len(rows) <= 16
    sha, item = _sha256_few() if few else _sha256(), _item
    shared: tuple[Any, ...] = ()
    middle = ""
    for row in rows:
        key = (row["at"], row["actor"], row["command"], row["table_name"])
        if key != shared or not middle:
            shared = key
            middle = "," + ",".join(item(v) for v in (canonical_time(key[0]), *key[1:])) + ","
        content = (f"[{int(row['id'])}{middle}{item(row['record_id'])},{item(row['action'])},"
                   f"{item(row['before'])},{item(row['after'])}]")  # = audit_content(row)
        prev = sha(f"{prev}\n{content}".encode()).hexdigest()
        row["hash"] = prev
    return prev


# --- documents -----------------------------------------------------------------------------


def _chunks(ids: Sequence[int], size: int = 500) -> Iterator[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def document_hashes(reader: Any, ids: Sequence[int] | None = None) -> dict[int, str]:
    """{invoice id: hash of its content} for the given invoices (default: every one), read
    in a few batched queries.  `reader` is an `s2s_cli.fastdb.Reader`."""
    cols = ", ".join(f"i.{c}" for c in INVOICE_FIELDS)
    lcols = ", ".join(f"l.{c}" for c in LINE_FIELDS)
    dcols = ", ".join(f"d.{c}" for c in DAY_FIELDS)
    batches: Iterable[Sequence[int] | None] = [None] if ids is None else _chunks(list(ids))
    out: dict[int, str] = {}
    sha = _sha256()
    for batch in batches:
        where, params = "", {}
        if batch is not None:
            if not batch:
                continue
            params = {f"i{n}": int(v) for n, v in enumerate(batch)}
            where = " WHERE {col} IN (" + ", ".join(f":{k}" for k in params) + ")"
        docs: dict[int, list[Any]] = {}
        for r in reader.iter(f"SELECT {cols} FROM invoice i"
                             + where.format(col="i.id") + " ORDER BY i.id", params):
            docs[int(r[0])] = [[_plain(v) for v in r], [], []]
        for r in reader.iter(f"SELECT {lcols} FROM invoice_line l"
                             + where.format(col="l.invoice_id") + " ORDER BY l.id", params):
            if int(r[1]) in docs:
                docs[int(r[1])][1].append([_plain(v) for v in r])
        for r in reader.iter(f"SELECT {dcols} FROM invoice_day d"
                             + where.format(col="d.invoice_id")
                             + " ORDER BY d.invoice_id, d.day_log_id, d.line_id", params):
            if int(r[0]) in docs:
                docs[int(r[0])][2].append([_plain(v) for v in r])
        for inv_id, content in docs.items():
            out[inv_id] = sha(_dumps(content).encode()).hexdigest()
    return out


def hashes_of_rows(invoices: Iterable[dict[str, Any]], lines: Iterable[dict[str, Any]],
                   days: Iterable[dict[str, Any]]) -> dict[int, str]:
    """`document_hashes` of documents just written, from the rows as written (dicts by
    column, ids included) rather than read back: the same content, in the same order."""
    from operator import itemgetter

    def plain(values: tuple[Any, ...]) -> Any:  # as _plain would give them, each converted
        return values if _AS_IS.issuperset(map(type, values)) else [_plain(v) for v in values]

    docs: dict[int, list[Any]] = {int(r["id"]): [[_plain(r[c]) for c in INVOICE_FIELDS], [], []]
                                  for r in invoices}
    get = itemgetter(*LINE_FIELDS)
    for r in sorted(lines, key=lambda r: int(r["id"])):
        docs[int(r["invoice_id"])][1].append(plain(get(r)))
    get = itemgetter(*DAY_FIELDS)
    for r in sorted(days, key=lambda r: (int(r["invoice_id"]), int(r["day_log_id"]),
                                         int(r["line_id"]))):
        docs[int(r["invoice_id"])][2].append(plain(get(r)))
    sha = _sha256()
    return {inv_id: sha(_dumps(content).encode()).hexdigest()
            for inv_id, content in sorted(docs.items())}


# --- the append-only triggers ----------------------------------------------------------------


def append_only_ddl(dialect: str) -> list[str]:
    """The statements that make audit_log refuse UPDATE and DELETE (migration 0002 creates
    them; a redaction during erasure drops and recreates them with these same statements)."""
    if dialect == "sqlite":
        return ["CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END",
                "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"]
    if dialect == "postgresql":
        return ["CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$",
                "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
                "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"]
    return []


def drop_append_only_ddl(dialect: str) -> list[str]:
    """The statements that remove what `append_only_ddl` creates."""
    if dialect == "sqlite":
        return ["DROP TRIGGER IF EXISTS audit_log_no_update",
                "DROP TRIGGER IF EXISTS audit_log_no_delete"]
    if dialect == "postgresql":
        return ["DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log",
                "DROP FUNCTION IF EXISTS audit_log_append_only()"]
    return []


def _squash(sql: str) -> str:
    return " ".join(sql.replace("\n", " ").split()).lower()


# --- checks (db check) ---------------------------------------------------------------------


def check_triggers(reader: Any) -> list[str]:
    """The triggers that refuse UPDATE and DELETE on audit_log are there, as created."""
    found: list[str] = []
    if reader.dialect == "sqlite":
        have = {str(name): str(sql or "") for name, sql in reader.all(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'audit_log'")}
        for statement in append_only_ddl("sqlite"):
            name = statement.split()[2]
            if name not in have:
                found.append(f"trigger {name} is missing: the audit trail can be changed")
            elif _squash(have[name]) != _squash(statement):
                found.append(f"trigger {name} was altered: it no longer refuses the change")
        return found
    if reader.dialect == "postgresql":
        rows = reader.all(
            "SELECT t.tgname, t.tgenabled, pg_get_triggerdef(t.oid), p.prosrc "
            "FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = 'audit_log'::regclass AND NOT t.tgisinternal")
        mine = [r for r in rows if r[0] == "audit_log_no_change"]
        if not mine:
            return ["trigger audit_log_no_change is missing: the audit trail can be changed"]
        _name, enabled, definition, source = mine[0]
        text = _squash(str(definition))
        if str(enabled) == "D":
            found.append("trigger audit_log_no_change is disabled: the audit trail can be "
                         "changed")
        if (not any(f"before {a} or {b} on" in text for a, b in (("update", "delete"),
                                                                 ("delete", "update")))
                or "for each row" not in text
                or "raise exception" not in _squash(str(source))):
            found.append("trigger audit_log_no_change was altered: it no longer refuses "
                         "every change")
    return found


def check_chain(reader: Any) -> tuple[list[str], int, str]:
    """(findings, rows, head hash): recompute every audit row's hash from the one before.
    A row that does not match was changed, or rows before it were deleted; each break is
    reported once and checking goes on from the stored hash."""
    found: list[str] = []
    prev, prev_id, rows = GENESIS, 0, 0
    cols = ", ".join(AUDIT_FIELDS)
    for r in reader.stream(f"SELECT {cols}, hash FROM audit_log ORDER BY id"):
        rows += 1
        row_id, stored = int(r[0]), r[-1]
        if stored is None:
            found.append(f"audit row {row_id} has no hash: it was written outside s2s")
            prev_id = row_id
            continue
        expected = link(prev, audit_content(r[:-1]))
        if expected != stored:
            if row_id != prev_id + 1:
                found.append(f"audit row {row_id}: the chain breaks here - row(s) "
                             f"{prev_id + 1}..{row_id - 1} before it were deleted, or it "
                             "was changed")
            else:
                found.append(f"audit row {row_id} was changed after it was written (its "
                             "hash no longer matches its content)")
        prev, prev_id = str(stored), row_id
    return found, rows, prev


def check_documents(reader: Any) -> list[str]:
    """Every issued invoice and credit note matches its seal, and the seal matches the one
    recorded in the (chained) audit trail."""
    found: list[str] = []
    stored = {int(i): (str(n), h) for i, n, h in reader.iter(
        "SELECT id, number, doc_hash FROM invoice ORDER BY id")}
    if not stored:
        return found
    sealed: dict[int, str] = {}
    for record_id, after in reader.iter(  # seal rows, and issue rows (the row with its seal)
            "SELECT record_id, after FROM audit_log WHERE table_name = 'invoice' "
            "AND action IN ('seal', 'issue') ORDER BY id"):
        try:
            sealed[int(record_id)] = json.loads(after)["doc_hash"]
        except (ValueError, KeyError, TypeError):
            continue
    actual = document_hashes(reader)
    for inv_id, (number, doc_hash) in stored.items():
        if doc_hash is None:
            found.append(f"{number} (id {inv_id}) has no seal: it was written outside s2s")
        elif actual.get(inv_id) != doc_hash:
            found.append(f"{number} (id {inv_id}) was changed after issue (its invoice, "
                         "lines or days no longer match its seal)")
        elif inv_id not in sealed:
            found.append(f"{number} (id {inv_id}) has no seal in the audit trail")
        elif sealed[inv_id] != doc_hash:
            found.append(f"{number} (id {inv_id}) carries a seal the audit trail never "
                         "recorded")
    return found
