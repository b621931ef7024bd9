"""What AWS discovery reads from a tenant's account (docs/cmdb.md, "AWS discovery"). No
database here.

STS AssumeRole of the source's role with the external id we generated, a session named
after the tenant, 15 minutes; then, per region, the Resource Groups Tagging API's
``GetResources`` (paginated; the resource type filters of the source) and, for the EC2
instances and subnets found, ``DescribeInstances`` / ``DescribeSubnets`` to relate them:
a VPC ``contains`` its subnets, a subnet ``contains`` its instances (a VPC its instances
when their subnet was not found). Relationships are made only between resources found in
the same run. At most ``limit`` resources a run (``truncated`` beyond); the walk stops
with an error when the time budget runs out. Errors carry the AWS error code and what to
check, never a credential.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from servicedesk.platform import aws

SESSION_SECONDS = 900  # AssumeRole's minimum: a run never needs more
PAGE = 100  # GetResources' maximum page
MAX_ARN = 200  # a CI's external id
NAME_TAG = "Name"
# The resource kind of ARNs whose resource part names no kind (``arn:aws:s3:::bucket``).
DEFAULT_KIND = {"s3": "bucket", "sqs": "queue", "sns": "topic"}


class DiscoveryFailed(Exception):
    """A run that cannot go on; the message is recorded on the run (no secrets)."""


@dataclass(frozen=True)
class Resource:
    arn: str
    service: str
    resource_type: str
    resource_id: str
    region: str
    account_id: str
    tags: dict[str, str]

    @property
    def name(self) -> str:
        return (self.tags.get(NAME_TAG) or self.resource_id or self.arn)[:200]


@dataclass
class Inventory:
    resources: dict[str, Resource] = field(default_factory=dict)  # by ARN, in order found
    relationships: list[tuple[str, str, str]] = field(default_factory=list)
    skipped: int = 0
    truncated: bool = False


def session_name(tenant_id: uuid.UUID) -> str:
    """Names the tenant in the role's CloudTrail records (at most 64 characters)."""
    return f"servicedesk-{tenant_id}"


def assume(role_arn: str, external_id: str, tenant_id: uuid.UUID) -> dict[str, Any]:
    """The role's temporary credentials, or ``DiscoveryFailed`` saying why not."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = aws.client("sts").assume_role(
            RoleArn=role_arn,
            RoleSessionName=session_name(tenant_id),
            ExternalId=external_id,
            DurationSeconds=SESSION_SECONDS,
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise DiscoveryFailed(
            f"AssumeRole of {role_arn} was refused ({code}): check that the role exists and"
            " that its trust policy is the one shown for this source (our principal, this"
            " source's external id)"
        ) from exc
    except BotoCoreError as exc:
        raise DiscoveryFailed(f"AssumeRole could not reach STS ({type(exc).__name__})") from exc
    credentials: dict[str, Any] = answer["Credentials"]
    return credentials


def parse_arn(arn: str, region: str, fallback_account: str) -> Resource | None:
    """The resource an ARN names, with ``region`` (where it was found) for global ones."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    service, arn_region, account, rest = parts[2], parts[3], parts[4], parts[5]
    kind, resource_id = DEFAULT_KIND.get(service, "resource"), rest
    for separator in ("/", ":"):
        if separator in rest:
            kind, resource_id = rest.split(separator, 1)
            break
    return Resource(
        arn=arn,
        service=service,
        resource_type=f"{service}:{kind}",
        resource_id=resource_id,
        region=arn_region or region,
        account_id=account or fallback_account,
        tags={},
    )


def _pages(client: Any, types: list[str]) -> Iterator[list[dict[str, Any]]]:
    token = ""
    while True:
        kwargs: dict[str, Any] = {"ResourcesPerPage": PAGE, "PaginationToken": token}
        if types:
            kwargs["ResourceTypeFilters"] = types
        answer = client.get_resources(**kwargs)
        yield answer.get("ResourceTagMappingList", [])
        token = answer.get("PaginationToken") or ""
        if not token:
            return


def _check(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise DiscoveryFailed(
            "the run's time budget ran out before the inventory was read; nothing was written"
        )


def read(
    credentials: dict[str, Any],
    *,
    role_arn: str,
    regions: list[str],
    resource_types: list[str],
    limit: int,
    deadline: float | None,
) -> Inventory:
    """The resources of the regions (at most ``limit``) and their relationships."""
    from botocore.exceptions import BotoCoreError, ClientError

    account = role_arn.split(":")[4]
    inventory = Inventory()
    for region in regions:
        try:
            _read_region(credentials, region, resource_types, account, limit, deadline, inventory)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise DiscoveryFailed(
                f"GetResources in {region} was refused ({code}): the role needs tag:GetResources"
            ) from exc
        except BotoCoreError as exc:
            raise DiscoveryFailed(
                f"GetResources in {region} failed ({type(exc).__name__})"
            ) from exc
        if inventory.truncated:
            break
    for region in regions:
        _check(deadline)
        _relate(credentials, region, inventory)
    return inventory


def _read_region(
    credentials: dict[str, Any],
    region: str,
    types: list[str],
    account: str,
    limit: int,
    deadline: float | None,
    inventory: Inventory,
) -> None:
    client = aws.assumed_client("resourcegroupstaggingapi", region=region, credentials=credentials)
    for page in _pages(client, types):
        _check(deadline)
        for mapping in page:
            arn = str(mapping.get("ResourceARN", ""))
            if arn in inventory.resources:
                continue  # a global resource (S3) answered in every region
            found = parse_arn(arn, region, account)
            if found is None or len(arn) > MAX_ARN:
                inventory.skipped += 1
                continue
            if len(inventory.resources) >= limit:
                inventory.truncated = True
                return
            tags = {str(t["Key"]): str(t.get("Value", "")) for t in mapping.get("Tags", [])}
            inventory.resources[arn] = Resource(**{**found.__dict__, "tags": tags})


def _arn(like: Resource, kind: str, resource_id: str) -> str:
    """The ARN of an EC2 ``kind`` in the account and region of ``like``."""
    partition = like.arn.split(":")[1]
    return f"arn:{partition}:ec2:{like.region}:{like.account_id}:{kind}/{resource_id}"


def _relate(credentials: dict[str, Any], region: str, inventory: Inventory) -> None:
    """Subnet and VPC of the instances and subnets found in ``region``; skipped without
    the EC2 describe permissions (the role's policy is the tenant's choice)."""
    from botocore.exceptions import ClientError

    found = [r for r in inventory.resources.values() if r.region == region and r.service == "ec2"]
    instances = [r for r in found if r.resource_type == "ec2:instance"]
    subnets = [r for r in found if r.resource_type == "ec2:subnet"]
    if not instances and not subnets:
        return
    ec2 = aws.assumed_client("ec2", region=region, credentials=credentials)
    try:
        _instance_edges(ec2, instances, inventory)
        _subnet_edges(ec2, subnets, inventory)
    except ClientError:
        return


def _instance_edges(ec2: Any, instances: list[Resource], inventory: Inventory) -> None:
    known = inventory.resources
    for start in range(0, len(instances), PAGE):
        ids = [r.resource_id for r in instances[start : start + PAGE]]
        for reservation in ec2.describe_instances(InstanceIds=ids).get("Reservations", []):
            for instance in reservation.get("Instances", []):
                like = instances[0]
                own = _arn(like, "instance", instance["InstanceId"])
                subnet = _arn(like, "subnet", instance.get("SubnetId", ""))
                parent = subnet if subnet in known else _arn(like, "vpc", instance.get("VpcId", ""))
                if parent in known and own in known:
                    inventory.relationships.append((parent, "contains", own))


def _subnet_edges(ec2: Any, subnets: list[Resource], inventory: Inventory) -> None:
    known = inventory.resources
    for start in range(0, len(subnets), PAGE):
        ids = [r.resource_id for r in subnets[start : start + PAGE]]
        for found in ec2.describe_subnets(SubnetIds=ids).get("Subnets", []):
            own = _arn(subnets[0], "subnet", found["SubnetId"])
            vpc = _arn(subnets[0], "vpc", found.get("VpcId", ""))
            if vpc in known and own in known:
                inventory.relationships.append((vpc, "contains", own))
