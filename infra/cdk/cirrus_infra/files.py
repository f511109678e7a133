"""The support attachments' bucket: private, encrypted, TLS-only, retained with the stack (it holds
tenants' files, as the table holds their tickets). The API function writes, reads and deletes
objects (chalicelib/files.py); people reach a file only through a presigned GET URL the API issues
to a caller who may see its issue, so nothing else is granted and no bucket policy opens it."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cirrus_infra.nag import suppress

# What the API does to the bucket's objects: exactly the calls chalicelib/files.py makes (a
# presigned GET is signed by the role that issues it, so it needs s3:GetObject).
OBJECT_ACTIONS = ("s3:PutObject", "s3:GetObject", "s3:DeleteObject")


def private_bucket(scope: Construct, why_no_access_log: str) -> s3.Bucket:
    """A bucket nobody reaches but the roles granted on it: public access blocked, encrypted,
    TLS-only, owner-enforced, retained with the stack, failed multipart uploads dropped after a day;
    `why_no_access_log` answers cdk-nag's S1 (the bucket's own reads and writes are logged where)."""
    bucket = s3.Bucket(
        scope,
        "Bucket",
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned=False,
        lifecycle_rules=[s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(1))],
        removal_policy=RemovalPolicy.RETAIN,
    )
    suppress(bucket, "AwsSolutions-S1", why_no_access_log)
    return bucket


class AttachmentsBucket(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.bucket = private_bucket(
            self,
            "Only the API function's role reads or writes the bucket, and every download URL is issued by "
            "an API request, which the API's access log records with its caller; S3 server access logs "
            "would add a second, unauthenticated view of the same reads (CloudTrail data events can be "
            "turned on by the operator for an object-level audit)",
        )

    def environment(self) -> dict[str, str]:
        return {"CIRRUS_ATTACHMENTS_BUCKET": self.bucket.bucket_name}

    def grant_api(self, role: iam.IRole) -> iam.Grant:
        return iam.Grant.add_to_principal(
            grantee=role, actions=list(OBJECT_ACTIONS), resource_arns=[self.bucket.arn_for_objects("*")]
        )
