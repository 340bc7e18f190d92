"""abuse: device tokens bound to readers, revocation by whom, idle session timeout,
login throttle

``api_tokens.readers`` lists the readers a token may tap for (device tokens made
before this revision have none, so they are refused at every reader until they are
made again with ``--reader``); ``sessions.last_seen_at`` carries the idle timeout
(every session open at the upgrade ends: log in again); ``login_throttle`` counts
failed logins per account, client address and known browser, and keeps the locks an
admin lifts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import service.store.tables


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_throttle',
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', service.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_at', service.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('subject', name=op.f('pk_login_throttle'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('readers', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('revoked_by', sa.String(length=100), nullable=True))

    # Sessions made before the idle timeout existed end here (their users log in again).
    op.execute(sa.text('DELETE FROM sessions'))
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', service.store.tables.UTCDateTime(timezone=True), nullable=False))
        batch_op.create_index(batch_op.f('ix_sessions_staff_id'), ['staff_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sessions_staff_id'))
        batch_op.drop_column('last_seen_at')

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('revoked_by')
        batch_op.drop_column('readers')

    op.drop_table('login_throttle')
