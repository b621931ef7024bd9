"""Attachments bucket: private, encrypted, TLS only, presigned PUT/POST/GET from the web origin.
Exports bucket: the files of asynchronous exports and scheduled reports, private, encrypted,
TLS only, deleted by lifecycle after their retention."""

from __future__ import annotations

from aws_cdk import Aws, Duration, Environment, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.config import DeploymentConfig
from stacks.constructs.nag import acknowledge

# Soft-deleted attachments are moved under this prefix and purged after DELETED_RETENTION.
DELETED_PREFIX = "deleted/"
DELETED_RETENTION = Duration.days(30)
NONCURRENT_RETENTION = Duration.days(30)
# Exports (servicedesk/exports): kept this long, as SERVICEDESK_EXPORT_RETENTION_DAYS says
# (the jobs read "expired" from then on).
EXPORT_RETENTION_DAYS = 7


class StorageStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        env: Environment | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, description="Servicedesk attachments")
        self.config = config
        # Attachments are customer data: buckets outlive the stack in every stage
        # (docs/deploy.md, teardown, says how to empty and delete them by hand).
        removal = RemovalPolicy.RETAIN

        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,  # server access logs need SSE-S3
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            removal_policy=removal,
        )
        acknowledge(
            self.access_logs,
            {"AwsSolutions-S1": "This is the access-log bucket; logging it to itself would loop."},
        )

        self.bucket = s3.Bucket(
            self,
            "Attachments",
            bucket_name=self.attachments_bucket_name,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="attachments/",
            cors=[
                s3.CorsRule(
                    allowed_origins=[config.web_origin],
                    allowed_methods=[
                        s3.HttpMethods.PUT,
                        s3.HttpMethods.POST,
                        s3.HttpMethods.GET,
                        s3.HttpMethods.HEAD,
                    ],
                    allowed_headers=["*"],
                    exposed_headers=["ETag"],
                    max_age=3000,
                )
            ],
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-multipart",
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
                s3.LifecycleRule(
                    id="expire-deleted",
                    prefix=DELETED_PREFIX,
                    expiration=DELETED_RETENTION,
                ),
                s3.LifecycleRule(
                    id="expire-noncurrent",
                    noncurrent_version_expiration=NONCURRENT_RETENTION,
                    expired_object_delete_marker=True,
                ),
            ],
            removal_policy=removal,
        )

        # Exports are copies of data that stays in the database: no versioning (a file is
        # written once under a new key), and gone after their retention.
        self.exports_bucket = s3.Bucket(
            self,
            "Exports",
            bucket_name=self.exports_bucket_name,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="exports/",
            # A CMDB import's CSV is posted by the browser with a presigned form
            # (servicedesk/cmdb/import_jobs.py) under imports/.
            cors=[
                s3.CorsRule(
                    allowed_origins=[config.web_origin],
                    allowed_methods=[s3.HttpMethods.POST],
                    allowed_headers=["*"],
                    max_age=3000,
                )
            ],
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-multipart",
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
                s3.LifecycleRule(
                    id="expire-exports", expiration=Duration.days(EXPORT_RETENTION_DAYS)
                ),
            ],
            removal_policy=removal,
        )

    @property
    def exports_bucket_name(self) -> str:
        """``sd-<stage>-exp-<account>-<region>`` (literal in IAM, as the attachments')."""
        return f"sd-{self.config.stage}-exp-{Aws.ACCOUNT_ID}-{Aws.REGION}"

    def export_environment(self) -> dict[str, str]:
        return {
            "SERVICEDESK_EXPORTS_BUCKET": self.exports_bucket_name,
            "SERVICEDESK_EXPORT_RETENTION_DAYS": str(EXPORT_RETENTION_DAYS),
        }

    def grant_exports(self, role: iam.Role, *, write: bool, list_: bool = False) -> None:
        """Read (presigned GETs, attaching a report) or write (the worker's multipart
        upload, a CMDB import's upload form) the exports bucket's objects; nothing else.
        ``list_``: ListBucket, without which S3 answers 403 rather than 404 for a missing
        object (a CMDB import started before its upload is 409)."""
        name = self.exports_bucket_name
        actions = ["s3:GetObject"]
        if write:
            actions += ["s3:PutObject", "s3:AbortMultipartUpload"]
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=actions, resources=[f"arn:{Aws.PARTITION}:s3:::{name}/*"])
        )
        if list_:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["s3:ListBucket"], resources=[f"arn:{Aws.PARTITION}:s3:::{name}"]
                )
            )
        Stack.of(role).add_stack_dependency(self, "exports bucket")
        acknowledge(
            role,
            {
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::"
                f"sd-{self.config.stage}-exp-<AWS::AccountId>-<AWS::Region>/*]": "Export keys "
                "are made per job (tenant/job id); access is limited to the exports bucket's "
                "objects and to the actions its readers or writers need.",
            },
        )

    @property
    def attachments_bucket_name(self) -> str:
        """``sd-<stage>-att-<account>-<region>``, built from pseudo parameters.

        Consumers in other stacks use this name (not a cross-stack reference) so that their
        IAM statements, and the cdk-nag finding ids acknowledged on them, stay literal.
        """
        return f"sd-{self.config.stage}-att-{Aws.ACCOUNT_ID}-{Aws.REGION}"

    def grant_objects(self, role: iam.Role, *, delete: bool = False, list_: bool = False) -> None:
        """Object access for presigned URLs (signed with the function's role) and cleanup.

        Get/Put(/Delete) on objects only: no bucket configuration, no ACLs. The grantee's
        stack must be deployed after this one (``add_dependency``).
        """
        name = self.attachments_bucket_name
        # GetObjectVersion: downloads are pinned to the version checked at complete.
        actions = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:AbortMultipartUpload"]
        if delete:
            actions += ["s3:DeleteObject", "s3:DeleteObjectVersion"]
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=actions, resources=[f"arn:{Aws.PARTITION}:s3:::{name}/*"])
        )
        if list_:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["s3:ListBucket"], resources=[f"arn:{Aws.PARTITION}:s3:::{name}"]
                )
            )
        Stack.of(role).add_stack_dependency(self, "attachments bucket")
        acknowledge(
            role,
            {
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::"
                f"sd-{self.config.stage}-att-<AWS::AccountId>-<AWS::Region>/*]": "Object keys "
                "are chosen per upload (tenant/ticket/attachment id); access is limited to the "
                "attachments bucket's objects and to the actions presigned URLs need.",
            },
        )
