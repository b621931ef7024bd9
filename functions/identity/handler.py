"""Identity API Lambda: signup, auth (sign-in providers too), the caller, users, custom
roles, the directory (LDAP) settings (/v1/settings/ldap, routed here: stacks/api.py);
plus health."""

import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.attachments.avatar_routes import me_router as avatar_me_router
from servicedesk.health.routes import router as health_router
from servicedesk.identity.directory_routes import settings_router as ldap_settings_router
from servicedesk.identity.mfa_routes import router as mfa_router
from servicedesk.identity.registration_routes import router as registration_router
from servicedesk.identity.role_routes import router as role_router
from servicedesk.identity.routes import router as identity_router
from servicedesk.identity.sso_routes import router as sso_router
from servicedesk.platform.lambda_ import domain_handler

routers = (
    identity_router,
    sso_router,
    registration_router,
    avatar_me_router,
    mfa_router,
    role_router,
    ldap_settings_router,
    health_router,
)
lambda_handler = domain_handler(*routers, title="Servicedesk identity API")
