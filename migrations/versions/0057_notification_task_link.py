"""Notifications lead to tasks: ``notifications.project_id`` and ``task_id`` name the task a
``task.*`` notification is about, as ``ticket_id`` names a ticket's (issue 24), so the bell
opens ``/projects/{project_id}/tasks/{task_id}``. Both or neither; no foreign key, as for
``ticket_id``: a notification outlives what it tells of (a deleted task's link finds 404).
Nullable columns without a default: adding them rewrites nothing.

Revision ID: 0057
Revises: 0056
"""

from alembic import op

revision = "0057"
down_revision = "0056"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE notifications ADD COLUMN project_id uuid, ADD COLUMN task_id uuid,"
        " ADD CONSTRAINT notifications_task_link CHECK ((project_id IS NULL) = (task_id IS NULL))"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE notifications DROP CONSTRAINT notifications_task_link,"
        " DROP COLUMN task_id, DROP COLUMN project_id"
    )
