"""Reports API Lambda: the report catalogue, every report (JSON/CSV), the manager dashboard;
/v1/reports/sla-compliance and /v1/reports/csat keep their earlier answers (see
servicedesk.reports.routes)."""

import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.platform.lambda_ import domain_handler
from servicedesk.reports.routes import router as reports_router

routers = (reports_router,)
lambda_handler = domain_handler(*routers, title="Servicedesk reports API")
