"""A professional's running emergency episodes on any record, found by their RPPS (the banner of their space).

Revision ID: 20261205_running_episodes
Revises: 20261204_representation
Create Date: 2026-12-05 07:00:00
"""

from __future__ import annotations

from alembic import op

revision = "20261205_running_episodes"
down_revision = "20261204_representation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_emergency_episodes_rpps_ends", "emergency_episodes", ["professional_rpps", "ends_at"])


def downgrade() -> None:
    op.drop_index("ix_emergency_episodes_rpps_ends", table_name="emergency_episodes")
