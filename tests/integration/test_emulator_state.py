"""The emulator's on-disk state (local/emulator.py), call by call: what S3 and SQS
acknowledged before a SIGKILL is there after a start on the same data directory, with the
same ids; what was deleted stays deleted. Real processes, real HTTP."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from local import aws


def _clients(endpoint: str) -> tuple[Any, Any]:
    options: dict[str, Any] = {
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": "local",
        "aws_secret_access_key": "local",
    }
    s3 = boto3.client("s3", config=Config(signature_version="s3v4"), **options)
    return s3, boto3.client("sqs", **options)


def _killed(process: Any) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def test_s3_objects_versions_and_bucket_configuration_survive_a_kill(tmp_path: Path) -> None:
    data = tmp_path / "aws"
    process, endpoint = aws.start_moto(data=data)
    try:
        s3, _ = _clients(endpoint)
        s3.create_bucket(Bucket="kept")
        s3.put_bucket_versioning(Bucket="kept", VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_cors(
            Bucket="kept",
            CORSConfiguration={
                "CORSRules": [{"AllowedOrigins": ["http://a"], "AllowedMethods": ["GET"]}]
            },
        )
        form = s3.generate_presigned_post(
            Bucket="kept",
            Key="form",
            Fields={"Content-Type": "image/png"},
            Conditions=[{"Content-Type": "image/png"}],
        )
        posted = httpx.post(
            form["url"], data=form["fields"], files={"file": ("x.png", b"posted", "image/png")}
        )
        assert posted.status_code == 204
        first = s3.put_object(Bucket="kept", Key="doc", Body=b"one", Metadata={"m": "1"})
        second = s3.put_object(Bucket="kept", Key="doc", Body=b"two", ContentType="text/plain")
        s3.copy_object(Bucket="kept", Key="copy", CopySource={"Bucket": "kept", "Key": "doc"})
        s3.put_object(Bucket="kept", Key="gone", Body=b"x")
        s3.delete_object(Bucket="kept", Key="gone")  # a delete marker
        s3.put_object(Bucket="kept", Key="batch", Body=b"x")
        s3.delete_objects(Bucket="kept", Delete={"Objects": [{"Key": "batch"}]})
        before = s3.list_object_versions(Bucket="kept")
        s3.create_bucket(Bucket="dropped")
        s3.delete_bucket(Bucket="dropped")
    finally:
        _killed(process)

    process, endpoint = aws.start_moto(data=data)
    try:
        s3, _ = _clients(endpoint)
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["kept"]
        assert s3.get_bucket_versioning(Bucket="kept")["Status"] == "Enabled"
        assert s3.get_bucket_cors(Bucket="kept")["CORSRules"][0]["AllowedOrigins"] == ["http://a"]
        posted_object = s3.get_object(Bucket="kept", Key="form")
        assert posted_object["Body"].read() == b"posted"
        assert posted_object["ContentType"] == "image/png"
        old = s3.get_object(Bucket="kept", Key="doc", VersionId=first["VersionId"])
        assert old["Body"].read() == b"one" and old["Metadata"] == {"m": "1"}
        current = s3.get_object(Bucket="kept", Key="doc")
        assert current["VersionId"] == second["VersionId"] and current["ETag"] == second["ETag"]
        assert current["ContentType"] == "text/plain"
        assert s3.get_object(Bucket="kept", Key="copy")["Body"].read() == b"two"
        for deleted in ("gone", "batch"):
            with pytest.raises(s3.exceptions.NoSuchKey):
                s3.get_object(Bucket="kept", Key=deleted)
        after = s3.list_object_versions(Bucket="kept")
        for part in ("Versions", "DeleteMarkers"):
            assert sorted((v["Key"], v["VersionId"], v["IsLatest"]) for v in after[part]) == sorted(
                (v["Key"], v["VersionId"], v["IsLatest"]) for v in before[part]
            )
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_sqs_messages_queues_and_dead_letters_survive_a_kill(tmp_path: Path) -> None:
    data = tmp_path / "aws"
    process, endpoint = aws.start_moto(data=data)
    try:
        _, sqs = _clients(endpoint)
        dlq = sqs.create_queue(QueueName="work-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
        work = sqs.create_queue(
            QueueName="work", Attributes={"VisibilityTimeout": "30", "RedrivePolicy": redrive}
        )["QueueUrl"]
        other = sqs.create_queue(QueueName="other")["QueueUrl"]

        def send(*numbers: int) -> None:
            sent = sqs.send_message_batch(
                QueueUrl=work,
                Entries=[
                    {
                        "Id": str(n),
                        "MessageBody": f"m{n}",
                        "MessageAttributes": {
                            "type": {"DataType": "String", "StringValue": f"t{n}"}
                        },
                    }
                    for n in numbers
                ],
            )["Successful"]
            ids.update({entry["Id"]: entry["MessageId"] for entry in sent})

        ids: dict[str, str] = {}
        # m1 is received once and, on the next receive, moved to the DLQ (maxReceiveCount 1).
        send(1)
        first = sqs.receive_message(QueueUrl=work, VisibilityTimeout=0)["Messages"]
        assert [m["Body"] for m in first] == ["m1"]
        assert sqs.receive_message(QueueUrl=work).get("Messages", []) == []
        # m0 is consumed; m2..m5 are in flight at the kill: visible again after the start.
        send(0, 2, 3, 4, 5)
        received = {
            m["Body"]: m
            for m in sqs.receive_message(QueueUrl=work, MaxNumberOfMessages=3)["Messages"]
        }
        received.update(
            {
                m["Body"]: m
                for m in sqs.receive_message(QueueUrl=work, MaxNumberOfMessages=3).get(
                    "Messages", []
                )
            }
        )
        assert sorted(received) == ["m0", "m2", "m3", "m4", "m5"]
        sqs.delete_message(QueueUrl=work, ReceiptHandle=received["m0"]["ReceiptHandle"])
        sqs.send_message(QueueUrl=other, MessageBody="purged")
        sqs.purge_queue(QueueUrl=other)
    finally:
        _killed(process)

    process, endpoint = aws.start_moto(data=data)
    try:
        _, sqs = _clients(endpoint)
        work = sqs.get_queue_url(QueueName="work")["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=work, AttributeNames=["All"])["Attributes"]
        assert json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"].endswith(":work-dlq")
        assert attributes["VisibilityTimeout"] == "30"

        def drain(url: str) -> dict[str, Any]:
            got: dict[str, Any] = {}
            while batch := sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages", []):
                for message in batch:
                    got[message["Body"]] = message
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            return got

        kept = drain(work)
        assert sorted(kept) == ["m2", "m3", "m4", "m5"]
        assert all(kept[f"m{n}"]["MessageId"] == ids[str(n)] for n in range(2, 6))
        assert kept["m2"]["MessageAttributes"]["type"]["StringValue"] == "t2"
        dead = drain(sqs.get_queue_url(QueueName="work-dlq")["QueueUrl"])
        assert sorted(dead) == ["m1"] and dead["m1"]["MessageId"] == ids["1"]
        assert drain(sqs.get_queue_url(QueueName="other")["QueueUrl"]) == {}
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_second_emulator_on_the_same_data_refuses_to_start(tmp_path: Path) -> None:
    process, _ = aws.start_moto(data=tmp_path / "aws")
    try:
        with pytest.raises(RuntimeError, match="exited"):
            aws.start_moto(data=tmp_path / "aws")
    finally:
        process.terminate()
        process.wait(timeout=10)
