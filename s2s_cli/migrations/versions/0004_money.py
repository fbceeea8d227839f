"""money: terms frozen on the deployment, issued documents frozen, split days, unique numbers

Revision ID: 0004_money
Revises: 0004_reportcards
Create Date: 2026-12-02

* `deployment` gains the terms its money depends on, frozen when it is agreed: `leader_kind`,
  `home_school_urn` (who is owed supply cover), `school_type` (DfE package size),
  `school_band` (the card's size band), `payer_school_urn`, `vat`, `vat_percent_bp` and
  `payment_terms_days`.  Existing deployments are backfilled from today's directory and card
  (the best record there is of what was agreed).
* `invoice.document` holds the whole document as issued (JSON); NULL for older documents,
  which keep rendering from their stored lines.  `invoice.number` becomes unique across series.
* `invoice_day` gains `halves` (the halves of the day on that line; backfilled from the day)
  and its primary key becomes (invoice_id, day_log_id, line_id): a full day split between the
  NLG allowance and a charge sits on two lines of one invoice.
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0004_money"
down_revision = "0004_reportcards"
branch_labels = None
depends_on = None

FUNDER_ROUTES = ("intervention", "grant")


def _card(conn: sa.engine.Connection) -> dict:
    raw = conn.execute(sa.text("SELECT value FROM setting WHERE key = 'rate_card'")).scalar()
    try:
        card = json.loads(raw) if raw else {}
    except ValueError:
        card = {}
    return card if isinstance(card, dict) else {}


def _band(card: dict, pupils: int | None) -> str | None:
    if pupils is None:
        return None
    bands = [b for b in card.get("bands") or [] if isinstance(b, dict) and "max_pupils" in b]
    for band in sorted(bands, key=lambda b: b["max_pupils"]):
        if pupils <= band["max_pupils"]:
            return band.get("name")
    return None


def upgrade() -> None:
    with op.batch_alter_table("deployment") as batch_op:
        batch_op.add_column(sa.Column("leader_kind", sa.String(), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("home_school_urn", sa.Integer(), sa.ForeignKey(
            "school.urn", name="fk_deployment_home_school_urn"), nullable=True))
        batch_op.add_column(sa.Column("school_type", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("school_band", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("payer_school_urn", sa.Integer(), sa.ForeignKey(
            "school.urn", name="fk_deployment_payer_school_urn"), nullable=True))
        batch_op.add_column(sa.Column("vat", sa.String(), nullable=False,
                                      server_default="exempt"))
        batch_op.add_column(sa.Column("vat_percent_bp", sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("payment_terms_days", sa.Integer(), nullable=False,
                                      server_default="28"))
    conn = op.get_bind()
    card = _card(conn)
    settings = card.get("invoice") if isinstance(card.get("invoice"), dict) else {}
    vat_bp = int(settings.get("vat_percent_bp") or 0)
    terms = settings.get("payment_terms_days")
    terms = 28 if terms is None else int(terms)
    conn.execute(sa.text(
        "UPDATE deployment SET "
        "leader_kind = (SELECT l.kind FROM leader l WHERE l.id = deployment.leader_id), "
        "home_school_urn = (SELECT l.home_school_urn FROM leader l "
        "WHERE l.id = deployment.leader_id), "
        "school_type = (SELECT s.type FROM school s WHERE s.urn = deployment.school_urn), "
        "vat = :vat, vat_percent_bp = :bp, payment_terms_days = :terms"),
        {"vat": "standard" if vat_bp else "exempt", "bp": vat_bp, "terms": terms})
    conn.execute(sa.text("UPDATE deployment SET payer_school_urn = school_urn "
                         "WHERE funding NOT IN (:a, :b)"),
                 {"a": FUNDER_ROUTES[0], "b": FUNDER_ROUTES[1]})
    rows = conn.execute(sa.text("SELECT d.id, s.pupils FROM deployment d "
                                "JOIN school s ON s.urn = d.school_urn")).all()
    for dep_id, pupils in rows:
        band = _band(card, pupils)
        if band is not None:
            conn.execute(sa.text("UPDATE deployment SET school_band = :b WHERE id = :i"),
                         {"b": band, "i": dep_id})

    with op.batch_alter_table("invoice") as batch_op:
        batch_op.add_column(sa.Column("document", sa.String(), nullable=True))
        batch_op.drop_index("ix_invoice_number")
        batch_op.create_index("ix_invoice_number", ["number"], unique=True)

    # invoice_day: a new primary key means a new table (the same statements on both backends)
    op.create_table(
        "invoice_day_new",
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("day_log_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("halves", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("supply_pence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["day_log_id"], ["day_log.id"]),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"]),
        sa.ForeignKeyConstraint(["line_id"], ["invoice_line.id"]),
        sa.PrimaryKeyConstraint("invoice_id", "day_log_id", "line_id"),
    )
    conn.execute(sa.text(
        "INSERT INTO invoice_day_new (invoice_id, day_log_id, line_id, halves, kind, "
        "amount_pence, supply_pence) SELECT x.invoice_id, x.day_log_id, x.line_id, d.halves, "
        "x.kind, x.amount_pence, x.supply_pence FROM invoice_day x "
        "JOIN day_log d ON d.id = x.day_log_id"))
    with op.batch_alter_table("invoice_day") as batch_op:
        batch_op.drop_index("ix_invoice_day_day_log_id")
    op.drop_table("invoice_day")
    op.rename_table("invoice_day_new", "invoice_day")
    op.create_index("ix_invoice_day_day_log_id", "invoice_day", ["day_log_id"])


def downgrade() -> None:
    op.create_table(
        "invoice_day_old",
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("day_log_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("supply_pence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["day_log_id"], ["day_log.id"]),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"]),
        sa.ForeignKeyConstraint(["line_id"], ["invoice_line.id"]),
        sa.PrimaryKeyConstraint("invoice_id", "day_log_id"),
    )
    op.get_bind().execute(sa.text(
        "INSERT INTO invoice_day_old (invoice_id, day_log_id, line_id, kind, amount_pence, "
        "supply_pence) SELECT invoice_id, day_log_id, MIN(line_id), MIN(kind), "
        "SUM(amount_pence), SUM(supply_pence) FROM invoice_day "
        "GROUP BY invoice_id, day_log_id"))
    op.drop_index("ix_invoice_day_day_log_id", table_name="invoice_day")
    op.drop_table("invoice_day")
    op.rename_table("invoice_day_old", "invoice_day")
    op.create_index("ix_invoice_day_day_log_id", "invoice_day", ["day_log_id"])
    with op.batch_alter_table("invoice") as batch_op:
        batch_op.drop_index("ix_invoice_number")
        batch_op.create_index("ix_invoice_number", ["number"], unique=False)
        batch_op.drop_column("document")
    with op.batch_alter_table("deployment") as batch_op:
        for col in ("payment_terms_days", "vat_percent_bp", "vat", "payer_school_urn",
                    "school_band", "school_type", "home_school_urn", "leader_kind"):
            batch_op.drop_column(col)
