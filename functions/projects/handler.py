"""Projects API Lambda: projects, their board columns and members, tasks (moves, ticket
links, a change's plan as tasks, comments, watchers), dependencies and the schedule
(/v1/projects), and a task's files: their list and removal (the upload start and its
completion sign S3 requests: the attachments function serves them)."""

import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.attachments.routes import task_list_router
from servicedesk.platform.lambda_ import domain_handler
from servicedesk.projects.routes import router as projects_router

routers = (projects_router, task_list_router)
lambda_handler = domain_handler(*routers, title="Servicedesk projects API")
