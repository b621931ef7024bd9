"""scripts/deploy_web.py against the AWS emulator over real HTTP."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from scripts.deploy_web import IMMUTABLE, deploy


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "assets" / "index-abc123.js.map").write_text("{}")
    (tmp_path / "assets" / "index-def456.css").write_text("body{}")
    (tmp_path / "config.json").write_text("{}")
    return tmp_path


def test_uploads_assets_immutable_and_index_uncached(aws_endpoint: str, dist: Path) -> None:
    s3 = boto3.client("s3", endpoint_url=aws_endpoint)
    s3.create_bucket(Bucket="web-site-test")
    count = deploy(dist, "web-site-test", None, s3=s3, cloudfront=None)
    assert count == 3
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="web-site-test")["Contents"]}
    assert keys == {"index.html", "assets/index-abc123.js", "assets/index-def456.css"}
    script = s3.head_object(Bucket="web-site-test", Key="assets/index-abc123.js")
    assert script["CacheControl"] == IMMUTABLE
    assert script["ContentType"].startswith(("text/javascript", "application/javascript"))
    index = s3.head_object(Bucket="web-site-test", Key="index.html")
    assert index["CacheControl"] == "no-cache"
    assert index["ContentType"] == "text/html; charset=utf-8"


def test_invalidates_index_html(aws_endpoint: str, dist: Path) -> None:
    s3 = boto3.client("s3", endpoint_url=aws_endpoint)
    s3.create_bucket(Bucket="web-site-inval")
    cloudfront = boto3.client("cloudfront", endpoint_url=aws_endpoint)
    created = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "deploy-web-test",
            "Comment": "test",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "site",
                        "DomainName": "web-site-inval.s3.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "site",
                "ViewerProtocolPolicy": "redirect-to-https",
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "MinTTL": 0,
            },
        }
    )
    distribution_id = created["Distribution"]["Id"]
    deploy(dist, "web-site-inval", distribution_id, s3=s3, cloudfront=cloudfront)
    invalidations = cloudfront.list_invalidations(DistributionId=distribution_id)
    assert invalidations["InvalidationList"]["Quantity"] == 1
    (summary,) = invalidations["InvalidationList"]["Items"]
    detail = cloudfront.get_invalidation(DistributionId=distribution_id, Id=summary["Id"])
    assert detail["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == ["/index.html"]
