"""Tickets API Lambda: tickets, conversation, participants, links, timeline, SLA; the
settings routes (/v1/settings is routed here), the knowledge base's and CSAT's among them;
the CSAT survey routes (/v1/csat, the tickets' survey); the queue's saved views (/v1/views);
the CIs linked to a ticket and its affected services (servicedesk/cmdb); the reports are
functions/reports."""

import servicedesk.automation.engine  # event rules run on ticket changes (timeline hook)
import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.attachments.routes import settings_router as attachment_settings_router
from servicedesk.attachments.routes import ticket_router as attachment_ticket_router
from servicedesk.branding.routes import settings_router as branding_settings_router
from servicedesk.cmdb.routes import ticket_router as cmdb_ticket_router
from servicedesk.csat.routes import router as csat_router
from servicedesk.csat.routes import settings_router as csat_settings_router
from servicedesk.identity.registration_routes import settings_router as portal_settings_router
from servicedesk.identity.security_routes import settings_router as security_settings_router
from servicedesk.kb.settings_routes import settings_router as kb_settings_router
from servicedesk.notifications.settings_routes import (
    settings_router as notification_settings_router,
)
from servicedesk.platform.lambda_ import domain_handler
from servicedesk.sla.routes import router as sla_router
from servicedesk.tickets.approval_routes import router as ticket_approvals_router
from servicedesk.tickets.routes import invitations_router, settings_router
from servicedesk.tickets.routes import router as tickets_router
from servicedesk.tickets.routes import sla_router as ticket_sla_router
from servicedesk.views.routes import router as views_router

routers = (
    ticket_approvals_router,
    invitations_router,
    settings_router,
    sla_router,
    ticket_sla_router,
    tickets_router,
    attachment_ticket_router,
    attachment_settings_router,
    kb_settings_router,
    csat_router,
    csat_settings_router,
    views_router,
    branding_settings_router,
    portal_settings_router,
    notification_settings_router,
    security_settings_router,
    cmdb_ticket_router,
)
lambda_handler = domain_handler(*routers, title="Servicedesk tickets API")
