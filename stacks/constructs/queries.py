"""``SavedQueries``: CloudWatch Logs Insights queries for the questions operators ask,
saved in the stack (AWS::Logs::QueryDefinition) over the functions' log groups.

They read the structured lines the code writes: the access line ("request": route,
status, duration_ms, request_id, tenant_id, user_id, trace_id), the consumers' lines
(trace_id, ticket_id) and the warnings. Per-tenant figures live here, not in metrics.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_logs as logs

from stacks.config import DeploymentConfig

# Logs Insights takes at most 50 log groups a query.
MAX_LOG_GROUPS = 50

QUERIES: dict[str, str] = {
    "Slowest routes (p95)": (
        'filter message = "request"'
        " | stats count(*) as requests, pct(duration_ms, 95) as p95_ms,"
        " max(duration_ms) as max_ms by route"
        " | sort p95_ms desc | limit 25"
    ),
    "5xx by route": (
        'filter message = "request" and status >= 500'
        " | stats count(*) as errors by route, status | sort errors desc | limit 25"
    ),
    "Busiest tenants": (
        'filter message = "request"'
        " | stats count(*) as requests, pct(duration_ms, 95) as p95_ms,"
        " sum(status >= 500) as errors by tenant_id"
        " | sort requests desc | limit 25"
    ),
    "One request (replace the id)": (
        "fields @timestamp, service, level, message, route, status, duration_ms"
        ' | filter request_id = "REQUEST-ID" | sort @timestamp asc'
    ),
    "One trace across functions (replace the id)": (
        "fields @timestamp, service, level, message, route, status, event_type"
        ' | filter trace_id = "1-00000000-000000000000000000000000" | sort @timestamp asc'
    ),
    "One ticket's story (replace the id)": (
        "fields @timestamp, service, level, message, route, status, event_type"
        ' | filter ticket_id = "TICKET-ID" | sort @timestamp asc'
    ),
    "Warnings and errors by function": (
        'filter level = "WARNING" or level = "ERROR"'
        " | stats count(*) as lines by service, message | sort lines desc | limit 50"
    ),
    "Consumer records that failed": (
        'filter message = "record failed; SQS delivers it again"'
        ' or message = "consumer batch failed"'
        " | stats count(*) as failures by service | sort failures desc"
    ),
}


class SavedQueries:
    """Built in ``stack``'s own scope (stacks/constructs/__init__.py says why)."""

    def __init__(
        self, stack: Stack, *, config: DeploymentConfig, log_groups: Sequence[logs.ILogGroup]
    ) -> None:
        names = [group.log_group_name for group in log_groups][:MAX_LOG_GROUPS]
        self.definitions = [
            logs.CfnQueryDefinition(
                stack,
                f"Query{n}",
                name=f"servicedesk-{config.stage}/{title}",
                query_string=query,
                log_group_names=names,
            )
            for n, (title, query) in enumerate(QUERIES.items())
        ]
