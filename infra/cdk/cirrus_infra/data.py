"""The single DynamoDB table, built from `chalicelib.store.schema` (the one source of truth)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from chalicelib.store import schema


def _string_key(name: str) -> dynamodb.Attribute:
    # schema.KEY_ATTRIBUTES: every key attribute is a string.
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class CirrusTable(Construct):
    """Keys, GSIs, TTL and stream exactly as `schema.create_table_request` describes them."""

    def __init__(self, scope: Construct, construct_id: str, *, deletion_protection: bool = True) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=_string_key(schema.PARTITION_KEY),
            sort_key=_string_key(schema.SORT_KEY),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=schema.TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            stream=dynamodb.StreamViewType(schema.STREAM_VIEW_TYPE),
            # The table holds every tenant's data and the audit log: never delete it with the stack
            # (nor on a replacement), and refuse DeleteTable from anyone until protection is turned off
            # (a dev stage may do without: `deletion_protection`).
            removal_policy=RemovalPolicy.RETAIN,
            deletion_protection=deletion_protection,
        )
        for index in schema.GLOBAL_INDEXES:
            self.table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_string_key(index.partition_key),
                sort_key=_string_key(index.sort_key),
                projection_type=dynamodb.ProjectionType(index.projection),
            )
