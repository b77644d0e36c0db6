"""Object store: one interface, a local-folder and an S3/MinIO implementation.

Keys are POSIX-style relative paths (``landing/frames/2026/11/27/batch.parquet``).
Writes are atomic: the local store writes a temp file and renames it, the S3 store
uses a single PUT, so a reader never sees a partial object.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable


class ObjectNotFoundError(KeyError):
    """Raised when a key does not exist in the store."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    mtime: float


def _check_key(key: str) -> str:
    if not key or key.startswith("/") or "\\" in key:
        raise ValueError(f"invalid object key {key!r}: use a relative POSIX path")
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid object key {key!r}: empty, '.' or '..' segment")
    return key


def _valid_key(text: str) -> str | None:
    try:
        return _check_key(text)
    except ValueError:
        return None


def public_url(base_url: str, key: str) -> str:
    """The HTTP address under which the open-data API serves a public key (``releases/...``, ``public/...``)."""
    return base_url.rstrip("/") + "/" + key.lstrip("/")


@runtime_checkable
class ObjectStore(Protocol):
    """Minimal object-store interface shared by every implementation."""

    def put_bytes(self, key: str, data: bytes, content_type: str = ..., *, durable: bool = ...) -> str: ...
    def get_bytes(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]: ...
    def uri(self, key: str) -> str: ...
    def key_of(self, uri: str) -> str | None: ...
    def copy(self, src: str, dst: str) -> None: ...
    def sync(self, keys: Iterable[str]) -> None: ...


class LocalObjectStore:
    """Objects as files below ``root``; atomic via temp file + ``os.replace``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put_bytes(
        self, key: str, data: bytes, content_type: str = "application/octet-stream", *, durable: bool = True
    ) -> str:
        """Write ``key`` atomically; ``durable=False`` leaves the flush to disk to a later ``sync([key, ...])``
        (a writer of many large objects keeps encoding while the kernel writes them back)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                if durable:
                    os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return self.uri(key)

    def get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise ObjectNotFoundError(key) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        base = self.root
        for dirpath, _dirnames, filenames in os.walk(base):
            for name in sorted(filenames):
                if name.startswith(".tmp-"):
                    continue
                full = Path(dirpath) / name
                key = full.relative_to(base).as_posix()
                if key.startswith(prefix):
                    st = full.stat()
                    yield ObjectInfo(key=key, size=st.st_size, mtime=st.st_mtime)

    def uri(self, key: str) -> str:
        return str(self._path(key))

    def key_of(self, uri: str) -> str | None:
        """The key of ``uri`` when it names an object of this store (a key, or a path/``file://`` URI below the
        root); None for anything else. Lets rows written before keys were stored as keys still resolve."""
        text = uri[len("file://") :] if uri.startswith("file://") else uri
        if text.startswith("/"):
            try:
                text = Path(text).resolve().relative_to(self.root).as_posix()
            except ValueError:
                return None
        return _valid_key(text)

    def local_path(self, key: str) -> Path:
        """The file holding ``key`` (readers that need a path, e.g. DuckDB's ``read_parquet``)."""
        return self._path(key)

    def sync(self, keys: Iterable[str]) -> None:
        """Flush the files of ``keys`` (written with ``durable=False``) and their folders to disk."""
        folders = set()
        for key in keys:
            path = self._path(key)
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            folders.add(path.parent)
        for folder in folders:
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def copy(self, src: str, dst: str) -> None:
        """Copy ``src`` to ``dst`` as a hard link (objects are never modified in place), else by bytes."""
        source, target = self._path(src), self._path(dst)
        if not source.is_file():
            raise ObjectNotFoundError(src)
        if source == target:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".tmp-link-{os.getpid()}-{target.name}"
        tmp.unlink(missing_ok=True)
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)


class S3ObjectStore:
    """Objects in an S3 bucket (MinIO in production) via the ``minio`` SDK.

    A single PUT is atomic in S3: the object appears whole or not at all.
    """

    def __init__(
        self,
        endpoint: str,
        bucket: str,
        access_key: str,
        secret_key: str,
        *,
        secure: bool = False,
        region: str = "us-east-1",
        prefix: str = "",
    ) -> None:
        from minio import Minio

        self.endpoint = endpoint
        self.bucket = bucket
        self.secure = secure
        self.prefix = prefix.strip("/")
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region)
        if not self.client.bucket_exists(bucket):
            self.client.make_bucket(bucket)

    def _key(self, key: str) -> str:
        _check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put_bytes(
        self, key: str, data: bytes, content_type: str = "application/octet-stream", *, durable: bool = True
    ) -> str:
        """One PUT; S3 acknowledges it once stored, so ``durable`` changes nothing here."""
        self.client.put_object(self.bucket, self._key(key), io.BytesIO(data), len(data), content_type=content_type)
        return self.uri(key)

    def sync(self, keys: Iterable[str]) -> None:
        """Nothing to flush: every PUT is durable when it returns."""

    def get_bytes(self, key: str) -> bytes:
        from minio.error import S3Error

        try:
            resp = self.client.get_object(self.bucket, self._key(key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise ObjectNotFoundError(key) from exc
            raise
        try:
            return resp.read()
        finally:
            resp.close()
            resp.release_conn()

    def exists(self, key: str) -> bool:
        from minio.error import S3Error

        try:
            self.client.stat_object(self.bucket, self._key(key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.remove_object(self.bucket, self._key(key))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        full_prefix = (self.prefix + "/" if self.prefix else "") + prefix
        strip = len(self.prefix) + 1 if self.prefix else 0
        for obj in self.client.list_objects(self.bucket, prefix=full_prefix, recursive=True):
            name = obj.object_name or ""
            mtime = obj.last_modified.timestamp() if obj.last_modified else 0.0
            yield ObjectInfo(key=name[strip:], size=obj.size or 0, mtime=mtime)

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def key_of(self, uri: str) -> str | None:
        """The key of ``uri`` when it names an object of this store (a key or an ``s3://bucket/prefix/...`` URI)."""
        text = uri
        if uri.startswith("s3://"):
            bucket, _, name = uri[len("s3://") :].partition("/")
            if bucket != self.bucket:
                return None
            if self.prefix:
                if not name.startswith(self.prefix + "/"):
                    return None
                name = name[len(self.prefix) + 1 :]
            text = name
        return _valid_key(text)

    def copy(self, src: str, dst: str) -> None:
        """Server-side copy: the bytes never pass through this process."""
        from minio.commonconfig import CopySource
        from minio.error import S3Error

        try:
            self.client.copy_object(self.bucket, self._key(dst), CopySource(self.bucket, self._key(src)))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise ObjectNotFoundError(src) from exc
            raise
