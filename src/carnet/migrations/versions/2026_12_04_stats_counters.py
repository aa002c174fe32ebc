"""Statistics counters (issue 13), filled from the rows already there so a migrated database has its figures.

Every counted fact is still in the tables: a record keeps its channel, opener, opening instant, département
and region in clear, destroyed or not; a document its class and deposit instant; an emergency episode its
mode and start. So the backfill is complete: openings per Paris day, week and month x channel x département,
pharmacy openings per month x FINESS, records per state, documents per Paris month x class, emergency and
regulation accesses per Paris month. Backfilled counts go to slot 0 (only a slot sum means something).
No month is frozen here: ended months freeze with these counts on the first remuneration read (or
`carnet stats close-month`).

Revision ID: 20261204_stats_counters
Revises: 20261205_running_episodes
Create Date: 2026-12-04 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261204_stats_counters"
down_revision = "20261205_running_episodes"
branch_labels = None
depends_on = None

BACKFILL = [
    """
    INSERT INTO stats_openings (grain, start, channel, departement, region, n)
    SELECT grains.grain,
           CASE grains.grain WHEN 'day' THEN opened.day
                             WHEN 'week' THEN date_trunc('week', opened.day)::date
                             ELSE date_trunc('month', opened.day)::date END,
           opened.channel, opened.departement, opened.region, count(*)
    FROM (
        SELECT (opened_at AT TIME ZONE 'Europe/Paris')::date AS day, channel, departement, region FROM records
    ) AS opened
    CROSS JOIN (VALUES ('day'), ('week'), ('month')) AS grains (grain)
    GROUP BY 1, 2, 3, 4, 5
    """,
    """
    INSERT INTO stats_pharmacy_openings (month, finess, n)
    SELECT date_trunc('month', (opened_at AT TIME ZONE 'Europe/Paris')::date)::date, opened_by, count(*)
    FROM records WHERE channel = 'pharmacy' GROUP BY 1, 2
    """,
    "INSERT INTO stats_record_states (state, slot, n) SELECT state, 0, count(*) FROM records GROUP BY state",
    """
    INSERT INTO stats_documents (month, class_code, slot, n)
    SELECT date_trunc('month', (deposited_at AT TIME ZONE 'Europe/Paris')::date)::date, class_code, 0, count(*)
    FROM documents GROUP BY 1, 2
    """,
    """
    INSERT INTO stats_emergencies (month, mode, n)
    SELECT date_trunc('month', (started_at AT TIME ZONE 'Europe/Paris')::date)::date, mode, count(*)
    FROM emergency_episodes GROUP BY 1, 2
    """,
]


def upgrade() -> None:
    op.create_table(
        "stats_openings",
        sa.Column("grain", sa.String(length=5), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("departement", sa.String(length=3), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("grain IN ('day', 'week', 'month')", name=op.f("ck_stats_openings_grain")),
        sa.PrimaryKeyConstraint("grain", "start", "channel", "departement", name=op.f("pk_stats_openings")),
    )
    op.create_table(
        "stats_record_states",
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("state", "slot", name=op.f("pk_stats_record_states")),
    )
    op.create_table(
        "stats_documents",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("class_code", sa.String(length=2), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", "class_code", "slot", name=op.f("pk_stats_documents")),
    )
    op.create_table(
        "stats_emergencies",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", "mode", name=op.f("pk_stats_emergencies")),
    )
    op.create_table(
        "stats_pharmacy_openings",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", "finess", name=op.f("pk_stats_pharmacy_openings")),
    )
    op.create_table(
        "remuneration_closings",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_remuneration_closings")),
    )
    op.create_table(
        "remuneration_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("openings", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.PrimaryKeyConstraint("month", "finess", name=op.f("pk_remuneration_months")),
    )
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    for table in (
        "remuneration_months",
        "remuneration_closings",
        "stats_pharmacy_openings",
        "stats_emergencies",
        "stats_documents",
        "stats_record_states",
        "stats_openings",
    ):
        op.drop_table(table)
