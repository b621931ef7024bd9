"""Attachments API Lambda: upload forms, completion checks, download links, removal.

The only API function with object access to the attachments bucket. It serves
``/v1/attachments/*`` (a tenant's logo upload and a member's avatar upload among them),
the public branding ``/v1/branding/*`` (it signs the logo's link), the avatars
``/v1/avatars/*`` (it signs their links) and the upload starts
``POST /v1/tickets/{id}/attachments`` and
``POST /v1/kb/articles/{id}/attachments`` and a task's upload start and completion under
``/v1/projects/{id}/tasks/{id}/attachments`` (API Gateway routes those methods here; ``GET``
on the same paths, the ticket-scoped lists and the settings live in the tickets, knowledge
base and projects functions and never touch S3).
"""

import servicedesk.automation.engine  # event rules run on ticket changes (timeline hook)
import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.attachments.avatar_routes import public_router as avatar_public_router
from servicedesk.attachments.avatar_routes import upload_router as avatar_upload_router
from servicedesk.attachments.routes import article_router, task_router, upload_router
from servicedesk.attachments.routes import router as attachments_router
from servicedesk.branding.routes import public_router as branding_public_router
from servicedesk.branding.routes import upload_router as branding_upload_router
from servicedesk.platform.lambda_ import domain_handler

routers = (
    branding_upload_router,
    avatar_upload_router,
    attachments_router,
    upload_router,
    article_router,
    task_router,
    branding_public_router,
    avatar_public_router,
)
lambda_handler = domain_handler(*routers, title="Servicedesk attachments API")
