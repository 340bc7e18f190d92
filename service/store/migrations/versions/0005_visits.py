"""visits: the front desk's question about another visitor's badge

``armed_issues`` (one row per front-desk reader: the visit the desk serves) keeps
the badge of another visit tapped there meanwhile (``asked_visit_id``, ``asked_at``)
until the clerk returns that visit or ignores the tap, so a reload of the page or a
restart of the daemon still asks.

Revision ID: 0005_visits
Revises: 0004
Create Date: 2026-11-30 05:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import service.store.tables


revision = '0005_visits'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('armed_issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('asked_visit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('asked_at', service.store.tables.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('armed_issues', schema=None) as batch_op:
        batch_op.drop_column('asked_at')
        batch_op.drop_column('asked_visit_id')
