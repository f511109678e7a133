"""The analytics BI export: the bucket the daily task writes (chalicelib/exports.py), and the Glue
catalog Athena reads it through.

- The bucket: private, encrypted, TLS-only, retained with the stack (it holds the platform's figures
  and its audit log, as the table does). The functions' role may only put objects under the two
  datasets' prefixes: the task writes each day's object whole (PutObject, or a multipart upload for
  a large day, which S3 authorises by s3:PutObject too) and reads, lists or deletes nothing. Parts
  of an upload that failed half way are dropped by the lifecycle rule after a day.
- The catalog: a database `<prefix>_analytics` and two tables, `aggregates` and `events`, over
  `s3://<bucket>/<dataset>/dt=YYYY-MM-DD/` (gzipped JSON lines, the OpenX JSON SerDe), with
  partition projection on `dt`: Athena computes the partitions from the query's `dt` predicate, so
  no crawler runs and no partition is ever added (docs/analytics/export.md has a sample query).
  Reading needs Athena and Glue permissions the operator's analysts have; none is granted here.
"""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from constructs import Construct

from cirrus_infra.files import private_bucket

# What the daily task does to the bucket: exactly the calls chalicelib/exports.py makes
# (PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload: all s3:PutObject).
OBJECT_ACTIONS = ("s3:PutObject",)
# The datasets (chalicelib/exports.py DATASETS), each a table and a prefix of the bucket.
DATASETS = ("aggregates", "events")
# The first day partition projection enumerates when a query names no `dt` (the export's first
# possible day; a deployment made later only has empty days before its own).
PROJECTION_START = "2026-01-01"

COLUMNS: dict[str, list[tuple[str, str, str]]] = {
    "aggregates": [
        ("series", "string", "the series, e.g. users#registration or quota#customer#<uuid>#<quota>"),
        ("period", "string", "D#YYYY-MM-DD (a day) or M#YYYY-MM (a month, exported with its last day)"),
        ("field", "string", "what the number counts within the series (a state, a method, usage, ...)"),
        ("label", "string", "the field's name for people (an offering's name), or empty"),
        ("kind", "string", "sum (a fact sum) or point (a gauge's value on the day)"),
        ("value", "double", "the aggregate's value"),
    ],
    "events": [
        ("uuid", "string", "the event's uuid (a UUIDv7, time-ordered)"),
        ("created", "string", "when it happened, ISO 8601 in UTC (from_iso8601_timestamp)"),
        ("event_type", "string", "Waldur's event type, e.g. resource_creation_succeeded"),
        ("message", "string", "the event's message"),
        ("customer_uuid", "string", "the customer it belongs to (null: a global event)"),
        ("scopes", "array<string>", "every scope it concerns, as <type>:<uuid>"),
        ("context", "string", "the event's context, as JSON text (json_extract_scalar)"),
    ],
}


class AnalyticsExport(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, prefix: str) -> None:
        super().__init__(scope, construct_id)
        self.bucket = private_bucket(
            self,
            "Only the daily export task writes the bucket (one object per dataset and day, logged by the "
            "task); analysts read it through Athena, whose query history records each read. CloudTrail "
            "data events can be turned on by the operator for an object-level audit",
        )
        self.database_name = f"{prefix}_analytics".replace("-", "_")
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name,
                description="Cirrus's analytics export: daily aggregates and audit events (JSON lines)",
            ),
        )
        self.tables = {dataset: self._table(dataset) for dataset in DATASETS}

    def _location(self, dataset: str) -> str:
        return f"s3://{self.bucket.bucket_name}/{dataset}/"

    def _table(self, dataset: str) -> glue.CfnTable:
        location = self._location(dataset)
        table = glue.CfnTable(
            self,
            f"{dataset.capitalize()}Table",
            catalog_id=Aws.ACCOUNT_ID,
            database_name=self.database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=dataset,
                table_type="EXTERNAL_TABLE",
                partition_keys=[
                    glue.CfnTable.ColumnProperty(name="dt", type="string", comment="the day, YYYY-MM-DD")
                ],
                parameters={
                    "classification": "json",
                    "compressionType": "gzip",
                    "projection.enabled": "true",
                    "projection.dt.type": "date",
                    "projection.dt.format": "yyyy-MM-dd",
                    "projection.dt.range": f"{PROJECTION_START},NOW",
                    "projection.dt.interval": "1",
                    "projection.dt.interval.unit": "DAYS",
                    "storage.location.template": f"{location}dt=${{dt}}/",
                },
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=location,
                    input_format="org.apache.hadoop.mapred.TextInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    compressed=True,
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.openx.data.jsonserde.JsonSerDe",
                        parameters={"ignore.malformed.json": "FALSE"},
                    ),
                    columns=[
                        glue.CfnTable.ColumnProperty(name=name, type=kind, comment=comment)
                        for name, kind, comment in COLUMNS[dataset]
                    ],
                ),
            ),
        )
        table.add_dependency(self.database)
        return table

    def environment(self) -> dict[str, str]:
        return {"CIRRUS_EXPORT_BUCKET": self.bucket.bucket_name}

    def grant_writer(self, role: iam.IRole) -> iam.Grant:
        """Put objects under the datasets' prefixes, nothing else (the export task's calls)."""
        return iam.Grant.add_to_principal(
            grantee=role,
            actions=list(OBJECT_ACTIONS),
            resource_arns=[self.bucket.arn_for_objects(f"{dataset}/*") for dataset in DATASETS],
        )
