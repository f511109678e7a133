"""The BI export's bucket: one day's aggregates and events as gzipped JSON lines, partitioned as
Hive wants (`aggregates/dt=2026-12-05/part-0000.jsonl.gz`, `events/dt=2026-12-05/...`), which the
Glue tables read with partition projection (infra/cdk/cirrus_infra/analytics_export.py).

One object per dataset and day, always under the same key: exporting a day again replaces it
whole (the task is idempotent; an empty day is an empty object, so a day that lost its rows is
replaced too). The lines are compressed as they come and sent in parts of `part_bytes` (a
multipart upload, begun only when a day outgrows one part), so memory stays bounded whatever the
day's size. An upload that fails half way is never completed: the key keeps its former object, and
the bucket's lifecycle rule drops the orphaned parts after a day. Under `make run` and the tests
the bucket is moto's (chalicelib/local/aws.py `create_buckets`).

Calls made (cirrus_infra/analytics_export.py grants exactly these, on the two prefixes):
PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload (all s3:PutObject).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.config import get_settings

AGGREGATES = "aggregates"
EVENTS = "events"
DATASETS = (AGGREGATES, EVENTS)
PART_BYTES = 8 * 1024 * 1024  # S3's smallest part is 5 MiB (the last one excepted)
CONTENT_TYPE = "application/gzip"


def key(dataset: str, day: date) -> str:
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}")
    return f"{dataset}/dt={day.isoformat()}/part-0000.jsonl.gz"


@dataclass(frozen=True)
class Written:
    key: str
    rows: int
    size: int  # bytes stored (compressed)
    parts: int  # 1 for a single PutObject


class S3Export:
    def __init__(self, bucket: str | None = None, part_bytes: int = PART_BYTES) -> None:
        self._bucket = bucket
        self.part_bytes = part_bytes

    @property
    def bucket(self) -> str:
        return self._bucket or get_settings().export_bucket_name

    def _s3(self) -> Any:
        from chalicelib.files import _client

        settings = get_settings()
        return _client(settings.aws_endpoint_url, settings.region)

    def write(self, object_key: str, lines: Iterable[str]) -> Written:
        """Store `lines` (one JSON object each) gzipped under `object_key`, replacing what is there."""
        s3 = self._s3()
        packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: the gzip format
        pending: list[bytes] = []
        size = rows = 0
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []

        def send(body: bytes) -> None:
            nonlocal upload_id
            if upload_id is None:
                started = s3.create_multipart_upload(
                    Bucket=self.bucket, Key=object_key, ContentType=CONTENT_TYPE
                )
                upload_id = started["UploadId"]
            number = len(parts) + 1
            sent = s3.upload_part(
                Bucket=self.bucket, Key=object_key, UploadId=upload_id, PartNumber=number, Body=body
            )
            parts.append({"ETag": sent["ETag"], "PartNumber": number})

        buffered = 0
        for line in lines:
            chunk = packer.compress(line.encode() + b"\n")
            rows += 1
            if chunk:
                pending.append(chunk)
                buffered += len(chunk)
            if buffered >= self.part_bytes:
                body = b"".join(pending)
                send(body)
                size += len(body)
                pending, buffered = [], 0
        pending.append(packer.flush())
        body = b"".join(pending)
        size += len(body)
        if upload_id is None:
            s3.put_object(Bucket=self.bucket, Key=object_key, Body=body, ContentType=CONTENT_TYPE)
            return Written(object_key, rows, size, 1)
        send(body)
        s3.complete_multipart_upload(
            Bucket=self.bucket, Key=object_key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
        return Written(object_key, rows, size, len(parts))
