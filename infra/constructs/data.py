"""The DynamoDB tables, one ``TableV2`` per declaration in ``infra/definitions/tables.json``.

On-demand billing, point-in-time recovery on, TTL and streams where declared, AWS-owned encryption
(DynamoDB's default). Deletion protection is configurable (on outside ``dev`` by default); when it is
on, the tables are also retained if the stack is deleted.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import definitions
from infra.constructs.naming import acknowledge, pascal

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}

_STREAM_VIEWS = {
    "NEW_IMAGE": dynamodb.StreamViewType.NEW_IMAGE,
    "NEW_AND_OLD_IMAGES": dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    "KEYS_ONLY": dynamodb.StreamViewType.KEYS_ONLY,
    "OLD_IMAGE": dynamodb.StreamViewType.OLD_IMAGE,
}


def _attribute(key: definitions.KeyAttribute) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])


class DataTables(Construct):
    """``tables[name]`` is the ``TableV2`` of the declaration ``definitions.tables()[name]``;
    ``buckets[name]`` the S3 bucket of ``definitions.buckets()[name]``."""

    def __init__(self, scope: Construct, construct_id: str, *, deletion_protection: bool) -> None:
        super().__init__(scope, construct_id)
        self.tables: dict[str, dynamodb.TableV2] = {
            name: self._table(name, decl, deletion_protection) for name, decl in definitions.tables().items()
        }
        self.buckets: dict[str, s3.Bucket] = {
            name: self._bucket(name, decl) for name, decl in definitions.buckets().items()
        }

    def _table(self, name: str, decl: definitions.Table, deletion_protection: bool) -> dynamodb.TableV2:
        return dynamodb.TableV2(
            self,
            pascal(name),
            partition_key=_attribute(decl.partition_key),
            sort_key=_attribute(decl.sort_key) if decl.sort_key else None,
            billing=dynamodb.Billing.on_demand(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=decl.ttl_attribute,
            dynamo_stream=_STREAM_VIEWS[decl.stream] if decl.stream else None,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=gsi.name,
                    partition_key=_attribute(gsi.partition_key),
                    sort_key=_attribute(gsi.sort_key) if gsi.sort_key else None,
                    projection_type=dynamodb.ProjectionType.ALL,
                )
                for gsi in decl.global_secondary_indexes
            ],
            deletion_protection=deletion_protection,
            removal_policy=RemovalPolicy.RETAIN if deletion_protection else RemovalPolicy.DESTROY,
        )

    def _bucket(self, name: str, decl: definitions.Bucket) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            f"{pascal(name)}Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=False,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(decl.expire_after_days))],
            # Objects expire on their own; a stack with live manifests keeps the bucket on delete.
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            bucket,
            "AwsSolutions-S1",
            f"{decl.description} Objects expire after {decl.expire_after_days} days and are written and read "
            "only by Tollgate's own roles; server access logs would add a second bucket for transient data.",
        )
        return bucket
