"""The web app in AWS: web/dist in a private bucket behind CloudFront, on one origin with
the API (``/v1/*`` goes to the REST API), so the refresh cookie stays SameSite=Strict and
no CORS is involved; ``/config.json`` tells the app where the WebSocket API is.

Every answer carries the security headers local/web.py sends under ``make dev``: a CSP
with no inline script or style, HSTS, ``frame-ancestors 'none'``, nosniff, same-origin
referrers. ``/config.json`` is answered by the viewer-request function itself, so the
stack needs no deploy-time Lambda; the built files are uploaded after ``cdk deploy`` by
``scripts/deploy_web.py`` (docs/web.md), with the bucket and distribution from the outputs.
"""

from __future__ import annotations

import json

from aws_cdk import Aws, CfnOutput, Duration, Environment, Fn, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from servicedesk.platform import csp, webpaths
from stacks.api import ApiStack
from stacks.config import DeploymentConfig
from stacks.constructs.nag import acknowledge
from stacks.realtime import RealtimeStack
from stacks.storage import StorageStack

API_PATH = "/v1/*"
# /config.json: the runtime config, answered at the edge. The root paths that are not the
# app's (servicedesk.platform.webpaths: /graphql, /api, ...) answer a 404 problem. Any other
# path that names no file is the app's (/tickets/<id>, /queues/mine, ...): index.html.
VIEWER_REQUEST = """function handler(event) {
  var request = event.request;
  if (request.uri === "/config.json") {
    return {
      statusCode: 200,
      statusDescription: "OK",
      headers: {
        "content-type": { value: "application/json" },
        "cache-control": { value: "no-cache" }
      },
      body: JSON.stringify(CONFIG)
    };
  }
  for (var i = 0; i < NOT_APP.length; i++) {
    var prefix = NOT_APP[i];
    if (request.uri === prefix || request.uri.indexOf(prefix + "/") === 0) {
      return {
        statusCode: 404,
        statusDescription: "Not Found",
        headers: {
          "content-type": { value: "application/problem+json" },
          "cache-control": { value: "no-cache" }
        },
        body: PROBLEM
      };
    }
  }
  var last = request.uri.substring(request.uri.lastIndexOf("/") + 1);
  if (last.indexOf(".") === -1) { request.uri = "/index.html"; }
  return request;
}"""


def viewer_request_code(websocket_url: str | None) -> str:
    """The function's code with the runtime config inlined (a token when deployed)."""
    url = Fn.join("", ['"', websocket_url, '"']) if websocket_url else "null"
    config = Fn.join("", ['{"websocketUrl": ', url, ', "apiBase": "/v1"}'])
    return viewer_request_source(config)


def viewer_request_source(config: str) -> str:
    """The function's code around ``config``, a JavaScript object literal (or a token)."""
    code = VIEWER_REQUEST.replace("NOT_APP", json.dumps(list(webpaths.NOT_APP_PREFIXES)))
    code = code.replace("PROBLEM", json.dumps(webpaths.not_found_problem()))
    return code.replace("CONFIG", config)


def content_security_policy(*, websocket_origin: str | None, upload_origins: list[str]) -> str:
    connect = [*upload_origins, *([websocket_origin] if websocket_origin else [])]
    # The tenant's logo: a redirect to a presigned GET on the attachments bucket.
    return csp.content_security_policy(connect, upgrade_insecure=True, images=upload_origins)


class WebStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        api: ApiStack,
        storage: StorageStack,
        realtime: RealtimeStack,
        env: Environment | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, description="Servicedesk web app")
        self.site = s3.Bucket(
            self,
            "Site",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=storage.access_logs,
            server_access_logs_prefix="web/",
            # Every bucket outlives its stack (docs/deploy.md, teardown); this one holds
            # only built files, so emptying it by hand loses nothing.
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudFront standard logs are written with ACLs, which the shared access-log
        # bucket (owner enforced) refuses: a bucket of their own.
        self.cdn_logs = s3.Bucket(
            self,
            "CdnLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.cdn_logs,
            {"AwsSolutions-S1": "CloudFront's access logs; logging this bucket would loop."},
        )

        websocket_url = realtime.stage.url
        websocket_origin = Fn.join("", ["wss://", Fn.select(2, Fn.split("/", websocket_url))])
        bucket = storage.bucket.bucket_name
        upload_origins = [
            f"https://{bucket}.s3.amazonaws.com",
            f"https://{bucket}.s3.{Aws.REGION}.amazonaws.com",
        ]
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="Servicedesk web app: CSP, HSTS, no framing",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(
                        websocket_origin=websocket_origin, upload_origins=upload_origins
                    ),
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(730),
                    include_subdomains=True,
                    preload=True,
                    override=True,
                ),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.SAME_ORIGIN, override=True
                ),
            ),
        )
        rewrite = cloudfront.Function(
            self,
            "ViewerRequest",
            code=cloudfront.FunctionCode.from_inline(viewer_request_code(websocket_url)),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="Runtime config at /config.json; the app's index.html for its routes",
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"Servicedesk web app ({config.stage})",
            default_root_object="index.html",
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=self.cdn_logs,
            log_file_prefix="cloudfront/",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.site),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=rewrite, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            additional_behaviors={
                # The API answers for itself: nothing cached, every header, cookie and query
                # string forwarded (the refresh cookie, If-Match, Idempotency-Key).
                API_PATH: cloudfront.BehaviorOptions(
                    origin=origins.RestApiOrigin(api.api),
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                    response_headers_policy=self.headers,
                )
            },
        )
        acknowledge(
            self.distribution,
            {
                "AwsSolutions-CFR1": "A service desk is used worldwide; no geo restriction.",
                "AwsSolutions-CFR2": (
                    "The REST API stage behind /v1 has its own WAF web ACL (config.waf_enabled);"
                    " the static files need none."
                ),
                "AwsSolutions-CFR4": (
                    "The default *.cloudfront.net certificate allows TLSv1; a custom domain"
                    " with its own certificate and TLSv1.2_2021 is a deployment choice."
                ),
            },
        )

        self.url = f"https://{self.distribution.distribution_domain_name}"
        CfnOutput(self, "WebUrl", value=self.url, description="The web app (set webOrigin to it)")
        CfnOutput(
            self, "SiteBucket", value=self.site.bucket_name, description="deploy_web.py --bucket"
        )
        CfnOutput(
            self,
            "DistributionId",
            value=self.distribution.distribution_id,
            description="deploy_web.py --distribution-id",
        )
