"""The AWS emulator fixture speaks real HTTP and boto3 finds it through AWS_ENDPOINT_URL."""

import boto3


def test_boto3_reaches_the_emulator_through_the_environment(aws_endpoint):
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="fixture-check")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    received = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in received] == ["hello"]
    assert sqs.meta.endpoint_url == aws_endpoint
