"""Task attachments (issue 24 point 2): a file may belong to a project's task, through the
same pipeline as a ticket's or an article's (presigned form, completion checks, gated
download, tombstones, cleanup).

``attachments.project_id`` and ``task_id``: the task's file. The foreign key on
(project_id, task_id) keeps the task in its project; deleting a task first tombstones its
files (``projects.tasks.delete_task``), then the key sets ``task_id`` to NULL and the row
stays with its project until the cleanup job has removed the object. A check refuses a
live file without its task. RLS on ``attachments`` is unchanged (0004: ENABLE, FORCE, the
tenant policy): the new columns are read under it.

Revision ID: 0059
Revises: 0058
"""

from alembic import op

revision = "0059"
down_revision = "0058"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
ALTER TABLE attachments ADD COLUMN project_id uuid, ADD COLUMN task_id uuid;
ALTER TABLE attachments ADD CONSTRAINT attachments_project_fk
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id);
ALTER TABLE attachments ADD CONSTRAINT attachments_task_fk
    FOREIGN KEY (project_id, task_id) REFERENCES project_tasks (project_id, id)
    ON DELETE SET NULL (task_id);
-- A task's file names its project and task; only a tombstone outlives its task.
ALTER TABLE attachments ADD CONSTRAINT attachments_task_link CHECK (
    (project_id IS NULL AND task_id IS NULL)
    OR (project_id IS NOT NULL AND (task_id IS NOT NULL OR status = 'deleted'))
);
ALTER TABLE attachments DROP CONSTRAINT attachments_owner;
-- A file belongs to a ticket (maybe one of its comments), an article, a task, or to the
-- tenant for a purpose; never to two of them.
ALTER TABLE attachments ADD CONSTRAINT attachments_owner CHECK (
    (ticket_id IS NOT NULL AND article_id IS NULL AND project_id IS NULL AND purpose IS NULL)
    OR (ticket_id IS NULL AND article_id IS NOT NULL AND project_id IS NULL
        AND comment_id IS NULL AND purpose IS NULL)
    OR (ticket_id IS NULL AND article_id IS NULL AND project_id IS NOT NULL
        AND comment_id IS NULL AND purpose IS NULL)
    OR (ticket_id IS NULL AND article_id IS NULL AND project_id IS NULL
        AND comment_id IS NULL AND purpose IS NOT NULL)
);
CREATE INDEX ix_attachments_task ON attachments (task_id, created_at, id)
    WHERE task_id IS NOT NULL;
"""
    )


def downgrade() -> None:
    op.execute(
        """
DELETE FROM attachments WHERE project_id IS NOT NULL;
DROP INDEX IF EXISTS ix_attachments_task;
ALTER TABLE attachments DROP CONSTRAINT attachments_owner;
ALTER TABLE attachments ADD CONSTRAINT attachments_owner CHECK (
    (ticket_id IS NOT NULL AND article_id IS NULL AND purpose IS NULL)
    OR (ticket_id IS NULL AND article_id IS NOT NULL AND comment_id IS NULL AND purpose IS NULL)
    OR (ticket_id IS NULL AND article_id IS NULL AND comment_id IS NULL AND purpose IS NOT NULL)
);
ALTER TABLE attachments DROP CONSTRAINT attachments_task_link,
    DROP CONSTRAINT attachments_task_fk, DROP CONSTRAINT attachments_project_fk,
    DROP COLUMN task_id, DROP COLUMN project_id;
"""
    )
