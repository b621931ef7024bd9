"""AWS discovery of the CMDB against the moto server over real HTTP: sources (role ARN
checks, the generated external id and trust policy), Run now (409 while one is queued),
runs made by the scheduled function's handler (its sample event): CIs and relationships
from tagged EC2 and S3 resources, a second run unchanged, a deleted resource retired, an
AssumeRole refused by STS (a real HTTP server answering AccessDenied) recorded on the run,
the time budget, tenant isolation and roles of every route."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from local.app import load_function
from local.scheduler import LambdaContext, scheduled_event
from servicedesk.platform.aws import reset as reset_aws_clients
from tests.conftest import make_tenant

REGION = "eu-west-1"
PATH = "/v1/cis/discovery-sources"


@pytest.fixture(scope="module", autouse=True)
def emulator(aws_endpoint: str, database: Any) -> str:
    reset_aws_clients()  # a client made before the emulator started would miss it
    return aws_endpoint


@pytest.fixture(scope="module")
def org(client):
    return make_tenant(client, roles=("agent", "manager", "requester"))


@pytest.fixture(scope="module")
def other(client):
    return make_tenant(client, roles=("manager",))


def _role() -> str:
    account = "".join(random.choice("0123456789") for _ in range(12))
    return f"arn:aws:iam::{account}:role/servicedesk-discovery-{uuid.uuid4().hex[:6]}"


def _in_account(role_arn: str, service: str) -> Any:
    """A client acting inside the role's account (moto keys accounts by credentials)."""
    creds = boto3.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="test-setup")[
        "Credentials"
    ]
    return boto3.client(
        service,
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def _tags(name: str) -> list[dict[str, str]]:
    return [{"Key": "Name", "Value": name}, {"Key": "team", "Value": "platform"}]


def _estate(role_arn: str) -> dict[str, str]:
    """A tagged VPC, subnet, instance and bucket in the role's account; their ARNs."""
    ec2 = _in_account(role_arn, "ec2")
    account = role_arn.split(":")[4]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=subnet)[
        "Instances"
    ][0]["InstanceId"]
    for resource, name in ((vpc, "main-vpc"), (subnet, "app-subnet"), (instance, "web-1")):
        ec2.create_tags(Resources=[resource], Tags=_tags(name))
    s3 = _in_account(role_arn, "s3")
    bucket = f"discovery-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "data"}]})
    prefix = f"arn:aws:ec2:{REGION}:{account}"
    return {
        "vpc": f"{prefix}:vpc/{vpc}",
        "subnet": f"{prefix}:subnet/{subnet}",
        "instance": f"{prefix}:instance/{instance}",
        "bucket": f"arn:aws:s3:::{bucket}",
        "bucket_name": bucket,
    }


def _source(client, org, role_arn: str, **body: Any) -> dict[str, Any]:
    made = client.post(
        PATH,
        headers=org.members["manager"].headers,
        json={"name": f"aws-{uuid.uuid4().hex[:6]}", "role_arn": role_arn, "regions": [REGION]}
        | body,
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def _run_now(client, org, source_id: str) -> Any:
    return client.post(f"{PATH}/{source_id}/run", headers=org.members["manager"].headers)


def _tick(context: Any = None) -> dict[str, Any]:
    handler = load_function("cmdb_discovery").lambda_handler
    event = scheduled_event("eventbridge_scheduled_cmdb_discovery")
    return dict(handler(event, context or LambdaContext("cmdb_discovery")))


def _runs(client, org, source_id: str) -> list[dict[str, Any]]:
    got = client.get(f"{PATH}/{source_id}/runs", headers=org.members["manager"].headers)
    assert got.status_code == 200, got.text
    return list(got.json()["items"])


def _ci(client, org, arn: str) -> dict[str, Any] | None:
    got = client.get("/v1/cis", params={"q": arn}, headers=org.members["agent"].headers)
    assert got.status_code == 200, got.text
    items = [c for c in got.json()["items"] if c["external_id"] == arn]
    return items[0] if items else None


def test_a_source_gets_a_generated_external_id_and_its_trust_policy(client, org):
    source = _source(client, org, _role(), resource_types=["ec2:instance", "s3"])
    assert len(source["external_id"]) == 64
    statement = source["trust_policy"]["Statement"][0]
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": source["external_id"]}}
    assert source["enabled"] and source["interval"] == "daily"
    chosen = client.post(
        PATH,
        headers=org.members["manager"].headers,
        json={"name": "x", "role_arn": _role(), "regions": [REGION], "external_id": "mine"},
    )
    assert chosen.status_code == 422
    assert "external_id" in {e["field"] for e in chosen.json()["errors"]}


@pytest.mark.parametrize(
    "role_arn",
    [
        "arn:aws:iam::12345:role/servicedesk-discovery",
        "arn:aws:iam::123456789012:user/servicedesk-discovery",
        "arn:aws:iam::123456789012:role/someone-elses-role",
        "not an arn",
    ],
)
def test_a_bad_role_arn_is_422_naming_role_arn(client, org, role_arn):
    made = client.post(
        PATH,
        headers=org.members["manager"].headers,
        json={"name": "bad", "role_arn": role_arn, "regions": [REGION]},
    )
    assert made.status_code == 422, made.text
    assert {e["field"] for e in made.json()["errors"]} == {"role_arn"}


def test_unknown_regions_and_types_are_422_naming_the_field(client, org):
    for body, field in (
        ({"regions": ["mars-north-1"]}, "regions.0"),
        ({"regions": []}, "regions"),
        ({"regions": [REGION], "resource_types": ["ec2:everything"]}, "resource_types.0"),
    ):
        made = client.post(
            PATH,
            headers=org.members["manager"].headers,
            json={"name": "bad", "role_arn": _role(), **body},
        )
        assert made.status_code == 422, made.text
        assert field in {e["field"] for e in made.json()["errors"]}, made.json()


def test_a_run_turns_resources_into_cis_then_changes_nothing_then_retires_the_gone(client, org):
    role = _role()
    estate = _estate(role)
    source = _source(client, org, role)
    queued = _run_now(client, org, source["id"])
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued" and queued.json()["trigger"] == "manual"
    again = _run_now(client, org, source["id"])
    assert again.status_code == 409
    assert {e["field"] for e in again.json()["errors"]} == {"source_id"}

    outcome = _tick()
    assert outcome["runs"] >= 1 and outcome["failed_tenants"] == []
    first = _runs(client, org, source["id"])[0]
    assert first["status"] == "succeeded", first
    assert (first["resources"], first["created"], first["retired"]) == (4, 4, 0)
    assert first["relationships"] == 2

    instance = _ci(client, org, estate["instance"])
    assert instance is not None
    assert instance["name"] == "web-1" and instance["state"] == "deployed"
    assert instance["attributes"] == {
        "service": "ec2",
        "resource_type": "ec2:instance",
        "region": REGION,
        "account_id": role.split(":")[4],
        "tags": {"Name": "web-1", "team": "platform"},
    }
    bucket = _ci(client, org, estate["bucket"])
    assert bucket is not None and bucket["name"] == estate["bucket_name"]
    assert bucket["attributes"]["resource_type"] == "s3:bucket"
    subnet = _ci(client, org, estate["subnet"])
    vpc = _ci(client, org, estate["vpc"])
    assert subnet is not None and vpc is not None
    edges = client.get(
        f"/v1/cis/{subnet['id']}/relationships", headers=org.members["agent"].headers
    ).json()["items"]
    assert {(e["source_id"], e["type"], e["target_id"]) for e in edges} == {
        (vpc["id"], "contains", subnet["id"]),
        (subnet["id"], "contains", instance["id"]),
    }

    assert _run_now(client, org, source["id"]).status_code == 202
    _tick()
    second = _runs(client, org, source["id"])[0]
    assert second["status"] == "succeeded", second
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, 4)
    assert second["relationships"] == 0

    s3 = _in_account(role, "s3")
    s3.delete_bucket(Bucket=estate["bucket_name"])
    assert _run_now(client, org, source["id"]).status_code == 202
    _tick()
    third = _runs(client, org, source["id"])[0]
    assert (third["status"], third["retired"], third["unchanged"]) == ("succeeded", 1, 3)
    gone = _ci(client, org, estate["bucket"])
    assert gone is not None and gone["state"] == "retired"
    history = client.get(
        f"/v1/cis/{gone['id']}/history", headers=org.members["agent"].headers
    ).json()["items"]
    assert {"field": "state", "old_value": "deployed", "new_value": "retired"}.items() <= (
        history[0].items()
    )


def test_a_ci_this_source_did_not_create_is_never_retired(client, org):
    role = _role()
    estate = _estate(role)
    classes = client.get("/v1/ci-classes", headers=org.members["manager"].headers).json()["items"]
    cloud = next(c for c in classes if c["key"] == "cloud_resource")
    made = client.post(
        "/v1/cis",
        headers=org.members["manager"].headers,
        json={
            "class_id": cloud["id"],
            "name": "by hand",
            "state": "in_stock",
            "external_id": estate["bucket"],
            "location": "Rack 4",
        },
    )
    assert made.status_code == 201, made.text
    source = _source(client, org, role)
    _run_now(client, org, source["id"])
    _tick()
    run = _runs(client, org, source["id"])[0]
    assert (run["status"], run["created"], run["updated"]) == ("succeeded", 3, 1), run
    kept = _ci(client, org, estate["bucket"])
    assert kept is not None and (kept["location"], kept["state"]) == ("Rack 4", "in_stock")
    _in_account(role, "s3").delete_bucket(Bucket=estate["bucket_name"])
    _run_now(client, org, source["id"])
    _tick()
    assert _runs(client, org, source["id"])[0]["retired"] == 0
    still = _ci(client, org, estate["bucket"])
    assert still is not None and still["state"] == "in_stock"


class _Refusing(BaseHTTPRequestHandler):
    """STS answering every call with AccessDenied, as AWS does for a wrong external id."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = (
            b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
            b"<Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to"
            b" perform: sts:AssumeRole</Message></Error><RequestId>r-1</RequestId>"
            b"</ErrorResponse>"
        )
        self.send_response(403)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def refusing_sts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", f"http://127.0.0.1:{server.server_port}")
    reset_aws_clients()
    yield
    server.shutdown()
    monkeypatch.delenv("AWS_ENDPOINT_URL_STS")
    reset_aws_clients()


def test_an_assume_role_refusal_is_recorded_on_the_run(client, org, refusing_sts):
    source = _source(client, org, _role())
    _run_now(client, org, source["id"])
    _tick()
    run = _runs(client, org, source["id"])[0]
    assert run["status"] == "failed"
    assert "AssumeRole" in run["error"] and "AccessDenied" in run["error"]
    assert source["external_id"] not in run["error"]
    assert _run_now(client, org, source["id"]).status_code == 202  # the failed run is over


class _NoTime(LambdaContext):
    def get_remaining_time_in_millis(self) -> int:
        return 11_000  # 1 s after the handler's 10 s margin: less than a run needs


def test_no_run_starts_without_the_time_it_needs(client, org):
    source = _source(client, org, _role())
    _run_now(client, org, source["id"])
    _tick(_NoTime("cmdb_discovery"))
    assert _runs(client, org, source["id"])[0]["status"] == "queued"
    _tick()
    assert _runs(client, org, source["id"])[0]["status"] == "succeeded"


def test_an_enabled_source_runs_when_due_and_a_disabled_one_does_not(client, org):
    role = _role()
    _estate(role)
    due = _source(client, org, role, interval="hourly")
    off = _source(client, org, role, enabled=False)
    _tick()
    assert [r["trigger"] for r in _runs(client, org, due["id"])] == ["schedule"]
    assert _runs(client, org, off["id"]) == []
    after = client.get(f"{PATH}/{due['id']}", headers=org.members["manager"].headers).json()
    assert after["last_success_at"] is not None and after["next_run_at"] > due["next_run_at"]
    _tick()
    assert len(_runs(client, org, due["id"])) == 1  # not due again for an hour


def test_edit_needs_the_version_and_delete_keeps_the_cis(client, org):
    source = _source(client, org, _role())
    headers = org.members["manager"].headers
    stale = client.patch(
        f"{PATH}/{source['id']}", headers={**headers, "If-Match": '"99"'}, json={"enabled": False}
    )
    assert stale.status_code == 412
    changed = client.patch(
        f"{PATH}/{source['id']}",
        headers={**headers, "If-Match": f'"{source["version"]}"'},
        json={"enabled": False, "regions": ["us-east-1", REGION]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["regions"] == [REGION, "us-east-1"] and not changed.json()["enabled"]
    assert changed.json()["external_id"] == source["external_id"]
    bad = client.patch(
        f"{PATH}/{source['id']}",
        headers={**headers, "If-Match": f'"{changed.json()["version"]}"'},
        json={"role_arn": "arn:aws:iam::123456789012:role/admin"},
    )
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"role_arn"}
    assert client.delete(f"{PATH}/{source['id']}", headers=headers).status_code == 204
    assert client.get(f"{PATH}/{source['id']}", headers=headers).status_code == 404


def test_another_tenants_source_is_404_on_every_route(client, org, other):
    source = _source(client, org, _role())
    theirs = other.members["manager"].headers
    base = f"{PATH}/{source['id']}"
    assert client.get(base, headers=theirs).status_code == 404
    assert client.get(f"{base}/runs", headers=theirs).status_code == 404
    assert client.post(f"{base}/run", headers=theirs).status_code == 404
    assert (
        client.patch(base, headers={**theirs, "If-Match": '"1"'}, json={"name": "x"}).status_code
        == 404
    )
    assert client.delete(base, headers=theirs).status_code == 404
    listed = client.get(PATH, headers=theirs).json()["items"]
    assert source["id"] not in {s["id"] for s in listed}


@pytest.mark.parametrize("role", ["agent", "requester"])
def test_only_cmdb_writers_reach_the_sources(client, org, role):
    source = _source(client, org, _role())
    headers = org.members[role].headers
    base = f"{PATH}/{source['id']}"
    assert client.get(PATH, headers=headers).status_code == 403
    assert client.get(base, headers=headers).status_code == 403
    assert client.get(f"{base}/runs", headers=headers).status_code == 403
    assert client.post(f"{base}/run", headers=headers).status_code == 403
    made = client.post(
        PATH, headers=headers, json={"name": "n", "role_arn": _role(), "regions": [REGION]}
    )
    assert made.status_code == 403
    assert client.delete(base, headers=headers).status_code == 403
    admin = client.get(base, headers=org.admin.headers)
    assert admin.status_code == 200
