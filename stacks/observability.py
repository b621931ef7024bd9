"""Dashboards and alarms: API latency/5xx per function, queues, DLQs, Aurora capacity;
the API, workers and realtime overviews over the code's own metrics (per route, business,
consumers, connections) with their alarms; the saved Logs Insights queries.

The alarms (with their topic), the dashboards and the queries are constructs in
``stacks/constructs/``.
"""

from __future__ import annotations

from aws_cdk import Environment, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.api import ApiStack
from stacks.asyncq import AsyncStack
from stacks.config import DeploymentConfig
from stacks.constructs.alarms import Alarms
from stacks.constructs.dashboard import Dashboard
from stacks.constructs.overviews import Overviews
from stacks.constructs.queries import SavedQueries
from stacks.data import DataStack
from stacks.mail import MailStack
from stacks.realtime import RealtimeStack


class ObservabilityStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        data: DataStack,
        api: ApiStack,
        queues: AsyncStack,
        realtime: RealtimeStack,
        mail: MailStack | None = None,
        env: Environment | None = None,
    ) -> None:
        super().__init__(
            scope, construct_id, env=env, description="Servicedesk dashboard and alarms"
        )
        evaluator = queues.functions.get("sla_evaluator")
        # The inbound-mail queue and DLQs beside the outbox's (the poller's schedule: "imap").
        all_queues = {**queues.queues, **({"intake": mail.queue} if mail else {})}
        all_dlqs = {
            **queues.dlqs,
            **({"intake": mail.dlq, "imap": mail.scheduler_dlq} if mail else {}),
        }
        alarms = Alarms(
            self,
            config=config,
            api=api.api,
            queues=all_queues,
            dlqs=all_dlqs,
            sla_evaluator=evaluator.function if evaluator is not None else None,
        )
        self.topic = alarms.topic
        sweepers = {"realtime_broadcaster": realtime.consumer.function}
        if "outbox_sweeper" in queues.functions:
            sweepers = {"outbox_sweeper": queues.functions["outbox_sweeper"].function, **sweepers}
        self.overviews = Overviews(
            self,
            config=config,
            alarms=alarms,
            queues=all_queues,
            dlqs=all_dlqs,
            sweepers=sweepers,
            broadcaster=realtime.consumer.function,
        )
        self.alarms: list[cw.Alarm] = alarms.alarms

        functions: dict[str, lambda_.IFunction] = {
            name: fn.function
            for name, fn in {
                **api.functions,
                **queues.functions,
                **(mail.functions if mail else {}),
            }.items()
        }
        functions.update({fn.name: fn.function for fn in realtime.functions.values()})
        functions[realtime.consumer.name] = realtime.consumer.function
        self.dashboard = Dashboard(
            self,
            config=config,
            api=api.api,
            functions=functions,
            queues=all_queues,
            dlqs=all_dlqs,
            cluster=data.cluster,
            proxy=data.proxy,
            alarms=self.alarms,
        ).dashboard
        domain_functions = [
            *api.functions.values(),
            *queues.functions.values(),
            *(mail.functions.values() if mail else ()),
            *realtime.functions.values(),
            realtime.consumer,
        ]
        self.queries = SavedQueries(
            self, config=config, log_groups=[fn.log_group for fn in domain_functions]
        )
