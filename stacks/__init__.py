"""The Servicedesk CDK stacks; ``build_app`` wires them together (used by app.py and tests)."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import App, Environment, Stack, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from stacks.api import ApiStack
from stacks.asyncq import AsyncStack
from stacks.config import DeploymentConfig, load_config
from stacks.data import DataStack
from stacks.mail import MailStack
from stacks.observability import ObservabilityStack
from stacks.realtime import RealtimeStack
from stacks.storage import StorageStack
from stacks.web import WebStack


@dataclass(frozen=True)
class ServicedeskApp:
    config: DeploymentConfig
    data: DataStack
    storage: StorageStack
    realtime: RealtimeStack
    asyncq: AsyncStack
    api: ApiStack
    observability: ObservabilityStack
    web: WebStack
    mail: MailStack | None = None  # only with inboundMailDomain

    @property
    def stacks(self) -> list[Stack]:
        return [
            self.data,
            self.storage,
            self.asyncq,
            *([self.mail] if self.mail is not None else []),
            self.realtime,
            self.api,
            self.observability,
            self.web,
        ]


def build_app(app: App, env: Environment | None = None, *, nag: bool = True) -> ServicedeskApp:
    """Create every stack of one deployment (stage) in ``app``."""
    config = load_config(app.node)
    prefix = config.prefix
    data = DataStack(app, f"{prefix}-Data", config=config, env=env)
    storage = StorageStack(app, f"{prefix}-Storage", config=config, env=env)
    asyncq = AsyncStack(app, f"{prefix}-Async", config=config, data=data, storage=storage, env=env)
    mail = (
        MailStack(
            app,
            f"{prefix}-Mail",
            config=config,
            data=data,
            storage=storage,
            queues=asyncq,
            env=env,
        )
        if config.inbound_mail
        else None
    )
    realtime = RealtimeStack(
        app,
        f"{prefix}-Realtime",
        config=config,
        data=data,
        queue=asyncq.queues["realtime"],
        env=env,
    )
    api = ApiStack(
        app,
        f"{prefix}-Api",
        config=config,
        data=data,
        storage=storage,
        queues=asyncq,
        mail=mail,
        realtime=realtime,
        env=env,
    )
    observability = ObservabilityStack(
        app,
        f"{prefix}-Observability",
        config=config,
        data=data,
        api=api,
        queues=asyncq,
        realtime=realtime,
        mail=mail,
        env=env,
    )
    web = WebStack(
        app,
        f"{prefix}-Web",
        config=config,
        api=api,
        storage=storage,
        realtime=realtime,
        env=env,
    )
    untaggable = ["AWS::RDS::DBProxyTargetGroup"]  # its CloudFormation schema has no Tags
    Tags.of(app).add("project", "servicedesk", exclude_resource_types=untaggable)
    Tags.of(app).add("stage", config.stage, exclude_resource_types=untaggable)
    if nag:
        # cdk-nag 3 is a policy-validation plugin: `cdk synth` fails on any unacknowledged
        # finding (error or warning) and writes the report into cdk.out.
        Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return ServicedeskApp(
        config=config,
        data=data,
        storage=storage,
        realtime=realtime,
        asyncq=asyncq,
        api=api,
        observability=observability,
        web=web,
        mail=mail,
    )


__all__ = ["DeploymentConfig", "ServicedeskApp", "build_app", "load_config"]
