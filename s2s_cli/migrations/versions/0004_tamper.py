"""tamper evidence: a hash chain over the audit trail, a seal on every issued document

Revision ID: 0004_tamper
Revises: 0004_money
Create Date: 2026-12-08

Adds `audit_log.hash` (SHA-256 over the previous row's hash and the row's content, in id order)
and `invoice.doc_hash` (SHA-256 of the invoice or credit note as issued: its row, lines and day
links); see s2s_cli/tamper.py.  Existing rows are backfilled: the chain is computed over the
audit trail as it stands (the append-only triggers are lifted for that, and put back with the
same statements migration 0002 used), then every existing document is sealed and its seal
appended to the chain.  Both columns stay nullable: `s2s db check` reports a row without one.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_tamper"
down_revision = "0004_money"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    from s2s_cli import audit, tamper

    op.add_column("audit_log", sa.Column("hash", sa.String(), nullable=True))
    op.add_column("invoice", sa.Column("doc_hash", sa.String(), nullable=True))
    conn = op.get_bind()
    dialect = conn.dialect.name
    for statement in tamper.drop_append_only_ddl(dialect):
        op.execute(statement)
    cols = ", ".join(tamper.AUDIT_FIELDS)
    prev, last = tamper.GENESIS, -1
    while True:
        rows = conn.execute(sa.text(f"SELECT {cols} FROM audit_log WHERE id > :last "
                                    f"ORDER BY id LIMIT {BATCH}"), {"last": last}).all()
        if not rows:
            break
        changes = []
        for r in rows:
            prev = tamper.link(prev, tamper.audit_content(list(r)))
            changes.append({"k_id": r[0], "k_hash": prev})
        conn.execute(sa.text("UPDATE audit_log SET hash = :k_hash WHERE id = :k_id"), changes)
        last = rows[-1][0]
    for statement in tamper.append_only_ddl(dialect):
        op.execute(statement)
    ids = [int(r[0]) for r in conn.execute(sa.text("SELECT id FROM invoice ORDER BY id"))]
    audit.seal_documents(conn, ids, actor="s2s", command="s2s db upgrade (0004_tamper)")


def downgrade() -> None:
    from s2s_cli import tamper

    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("invoice") as batch_op:
        batch_op.drop_column("doc_hash")
    for statement in tamper.drop_append_only_ddl(dialect):
        op.execute(statement)
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.drop_column("hash")
    for statement in tamper.append_only_ddl(dialect):
        op.execute(statement)
