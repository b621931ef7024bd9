"""Tickets API Lambda: tickets, the conversation, participants, links, timeline."""

from servicedesk.platform.lambda_ import domain_handler
from servicedesk.tickets.routes import invitations_router, settings_router
from servicedesk.tickets.routes import router as tickets_router

routers = (invitations_router, settings_router, tickets_router)
lambda_handler = domain_handler(*routers, title="Servicedesk tickets API")
