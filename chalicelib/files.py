"""Stored files: the S3 adapter of the services' `Files` port (services/ports.py).

Objects are written private (the bucket blocks public access; on AWS it is encrypted and TLS-only)
under keys the services make, and read only through presigned GET URLs that live
`attachment_url_seconds` and carry `response-content-disposition: attachment` and the stored type,
so a browser downloads the file instead of rendering it on any origin. Under `make run` and the
tests the bucket is moto's (created with the other local resources, chalicelib/local/aws.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import quote

from chalicelib.config import get_settings


@lru_cache(maxsize=4)
def _client(endpoint: str | None, region: str) -> Any:
    """S3 with Signature Version 4 (presigned URLs too: botocore would sign them with the
    deprecated version 2 in us-east-1), on the configured endpoint, timeouts and retries."""
    import boto3

    from chalicelib.workflows.aws import client_config

    config = client_config().merge(_sigv4(path_style=endpoint is not None))
    return boto3.client("s3", endpoint_url=endpoint, region_name=region, config=config)


def _sigv4(path_style: bool) -> Any:
    """A local endpoint (moto's server on loopback) is addressed by path: a virtual host name
    `<bucket>.127.0.0.1` would not resolve."""
    from botocore.config import Config

    return Config(signature_version="s3v4", s3={"addressing_style": "path" if path_style else "virtual"})


def _disposition(file_name: str) -> str:
    """`attachment` with the name as RFC 6266 wants it: an ASCII fallback and the UTF-8 name."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\\\' else "_" for c in file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


class S3Files:
    def _s3(self) -> Any:
        settings = get_settings()
        return _client(settings.aws_endpoint_url, settings.region)

    @property
    def bucket(self) -> str:
        return get_settings().attachments_bucket_name

    def put(self, key: str, content: bytes, mime_type: str) -> None:
        self._s3().put_object(Bucket=self.bucket, Key=key, Body=content, ContentType=mime_type)

    def download_url(self, key: str, file_name: str, mime_type: str) -> str:
        url: str = self._s3().generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": _disposition(file_name),
                "ResponseContentType": mime_type,
            },
            ExpiresIn=get_settings().attachment_url_seconds,
        )
        return url

    def delete(self, key: str) -> None:
        self._s3().delete_object(Bucket=self.bucket, Key=key)
