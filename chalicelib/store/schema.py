"""The table's physical schema: keys, GSIs, TTL and stream.

One source of truth, imported by the CDK stack, the local stack and the tests, so the deployed table,
the local one and the one under test cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str
    projection: str = "ALL"


PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expires_at"
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"

GSI1 = Index("gsi1", "gsi1pk", "gsi1sk")  # lookup by id; a user's grants; list orderings
GSI2 = Index("gsi2", "gsi2pk", "gsi2sk")  # sparse work lists and name orderings
GLOBAL_INDEXES: tuple[Index, ...] = (GSI1, GSI2)

# Every key attribute is a string.
KEY_ATTRIBUTES: tuple[str, ...] = (
    PARTITION_KEY,
    SORT_KEY,
    *(a for i in GLOBAL_INDEXES for a in (i.partition_key, i.sort_key)),
)


def create_table_request(table_name: str) -> dict[str, Any]:
    """Arguments for DynamoDB CreateTable (the local stack and tests use it; CDK mirrors it)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in KEY_ATTRIBUTES],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": i.name,
                "KeySchema": [
                    {"AttributeName": i.partition_key, "KeyType": "HASH"},
                    {"AttributeName": i.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": i.projection},
            }
            for i in GLOBAL_INDEXES
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE},
    }
