"""Object storage: the bucket that holds uploads and results, behind a small interface.

`S3Storage` is handed its boto3 clients. It turns botocore's errors into ours, so callers
never see vendor exceptions: a missing key is `NotFound`, an unreachable or failing
server is `TransientError` (worth retrying).

Signed URLs are made by a second client whose endpoint is the *public* S3 endpoint:
the Host header is part of a SigV4 signature, so a URL signed for the internal host
and rewritten afterwards would be refused (field-notes-ops §3).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

# boto3 itself (~90 ms to import) is imported where a client is made, so a worker's start-up
# path does not pay for it; botocore's exceptions module is light (~3 ms).
from botocore.exceptions import BotoCoreError, ClientError

from qagen.errors import NotFound, TransientError
from qagen.settings import Settings

_MISSING_CODES = {"NoSuchKey", "404", "NotFound"}


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str = ...) -> None: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def signed_url(self, key: str, expires_in: int, filename: str | None = None) -> str: ...


def _client_config(timeout_seconds: float, attempts: int):
    from botocore.config import Config

    return Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        # boto3 >= 1.36 sends checksums by default that third-party S3 servers reject.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        connect_timeout=timeout_seconds,
        read_timeout=max(timeout_seconds, 10.0),
        retries={"max_attempts": attempts, "mode": "standard"},
    )


def content_disposition(filename: str) -> str:
    """An attachment header that survives non-ASCII names (RFC 6266 `filename*`)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


@dataclass
class S3Storage:
    client: object
    signer: object
    bucket: str

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout_seconds: float = 5.0, attempts: int = 3) -> S3Storage:
        import boto3.session
        from botocore.handlers import add_expect_header

        def make(endpoint: str) -> object:
            client = boto3.session.Session().client(
                "s3",
                endpoint_url=endpoint,
                aws_access_key_id=settings.s3_access_key,
                aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
                region_name=settings.s3_region,
                config=_client_config(timeout_seconds, attempts),
            )
            # botocore sends `Expect: 100-continue` on every PutObject and waits up to 1 s for
            # the interim reply; SeaweedFS sometimes never sends one, so a few uploads stalled
            # ~1 s (measured: 6 of 1,357 puts over 900 ms with it, none of 1,916 without).
            client.meta.events.unregister("before-call.s3", add_expect_header)
            return client

        return cls(client=make(settings.s3_endpoint), signer=make(settings.signing_endpoint), bucket=settings.s3_bucket)

    def _call(self, operation: str, **kwargs: object) -> dict:
        try:
            return getattr(self.client, operation)(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING_CODES:
                raise NotFound(f"No object {kwargs.get('Key')!r} in bucket {self.bucket!r}.") from exc
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if status >= 500 or code in {"SlowDown", "ServiceUnavailable", "InternalError"}:
                raise TransientError(f"Object storage failed ({code}); try again shortly.") from exc
            raise
        except BotoCoreError as exc:
            raise TransientError(f"Object storage is unreachable: {exc}") from exc

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self._call("put_object", Key=key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        return self._call("get_object", Key=key)["Body"].read()

    def exists(self, key: str) -> bool:
        try:
            self._call("head_object", Key=key)
        except NotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        self._call("delete_object", Key=key)

    def list_keys(self, prefix: str = "") -> list[str]:
        keys: list[str] = []
        token: dict = {}
        while True:
            page = self._call("list_objects_v2", Prefix=prefix, **token)
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
            if not page.get("IsTruncated"):
                return keys
            token = {"ContinuationToken": page["NextContinuationToken"]}

    def list_objects(self, prefix: str = "") -> Iterator[tuple[str, float]]:
        """(key, last modified as a Unix time) of every object under `prefix`, in key order, page by page."""
        token: dict = {}
        while True:
            page = self._call("list_objects_v2", Prefix=prefix, **token)
            for obj in page.get("Contents", []):
                yield obj["Key"], obj["LastModified"].timestamp()
            if not page.get("IsTruncated"):
                return
            token = {"ContinuationToken": page["NextContinuationToken"]}

    def delete_many(self, keys: Iterable[str]) -> int:
        """Delete `keys` (missing ones count as deleted), 1,000 per request; how many were asked for."""
        batch: list[str] = []
        count = 0
        for key in keys:
            batch.append(key)
            if len(batch) == 1000:
                count += self._delete_batch(batch)
                batch = []
        return count + (self._delete_batch(batch) if batch else 0)

    def _delete_batch(self, keys: list[str]) -> int:
        reply = self._call("delete_objects", Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True})
        failed = [e for e in reply.get("Errors", []) if str(e.get("Code")) not in _MISSING_CODES]
        if failed:
            raise TransientError(f"Object storage did not delete {len(failed)} object(s), e.g. "
                                 f"{failed[0].get('Key')!r}: {failed[0].get('Message') or failed[0].get('Code')}")
        return len(keys)

    def _lifecycle_rules(self) -> list[dict]:
        try:
            return self._call("get_bucket_lifecycle_configuration").get("Rules", [])
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) == "NoSuchLifecycleConfiguration":
                return []
            raise

    def expiry_rule(self, rule_id: str) -> dict | None:
        """The bucket's lifecycle rule with this id, or None (no such rule, or no lifecycle configuration)."""
        return next((rule for rule in self._lifecycle_rules() if rule.get("ID") == rule_id), None)

    def set_expiry_rule(self, rule_id: str, prefix: str, days: int) -> None:
        """Objects under `prefix` expire `days` after they were written (S3 lifecycle `Expiration`);
        the bucket's other rules are kept."""
        rule = {"ID": rule_id, "Status": "Enabled", "Filter": {"Prefix": prefix}, "Expiration": {"Days": days}}
        rules = [r for r in self._lifecycle_rules() if r.get("ID") != rule_id] + [rule]
        self._call("put_bucket_lifecycle_configuration", LifecycleConfiguration={"Rules": rules})

    def ensure_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            try:
                self.client.create_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                    raise
        except BotoCoreError as exc:
            raise TransientError(f"Object storage is unreachable: {exc}") from exc

    def ping(self) -> None:
        """Raise TransientError unless the bucket answers."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise TransientError(f"Bucket {self.bucket!r} is not reachable: {exc}") from exc

    def signed_url(self, key: str, expires_in: int, filename: str | None = None) -> str:
        params: dict[str, str] = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        # Signing is local: no request reaches the public endpoint here.
        return self.signer.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)

    # ------------------------------------------------------------------ direct uploads (docs/direct-uploads.md)

    def presigned_post(self, key: str, max_bytes: int, expires_in: int) -> dict:
        """A form (`url`, `fields`) that lets its holder POST one file of 1..`max_bytes` bytes to
        exactly `key` until it expires; the bucket itself enforces all three (the signed policy).
        Signed locally by the public-endpoint client, like `signed_url`."""
        return self.signer.generate_presigned_post(self.bucket, key, Fields=None, ExpiresIn=expires_in,
                                                   Conditions=[["content-length-range", 1, max_bytes]])

    def get_range(self, key: str, length: int) -> tuple[bytes, int, str]:
        """(the first `length` bytes, or all when shorter; the object's size; its ETag) of the object
        at `key`, in one request; NotFound when there is none."""
        reply = self._call("get_object", Key=key, Range=f"bytes=0-{max(0, length - 1)}")
        data = reply["Body"].read()
        total = str(reply.get("ContentRange") or "").rpartition("/")[2]
        return data, int(total) if total.isdigit() else len(data), str(reply.get("ETag", ""))

    def copy(self, source: str, key: str, content_type: str, etag: str | None = None) -> None:
        """A server-side copy of `source` to `key` (the bytes never leave the store), of the version
        `etag` when given (PreconditionFailed, a ClientError, when it changed)."""
        extra = {"CopySourceIfMatch": etag} if etag else {}
        self._call("copy_object", Key=key, CopySource={"Bucket": self.bucket, "Key": source},
                   ContentType=content_type, MetadataDirective="REPLACE", **extra)
