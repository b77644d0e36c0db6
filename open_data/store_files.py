"""Serve public objects straight from the object store (local folder or S3/MinIO) over HTTP.

The portal, release files, blurred keyframes, CAP messages and the Atom feed all live in the object store;
this module is the one way the HTTP side reads them, so a deployment with ``PANTAU_STORE=s3`` serves exactly
what a local folder serves. Only keys below an allowed prefix are served (``releases/`` and ``public/``):
private keyframes and landing files can never be reached, whatever the request path.

``store_response(store, key, request)`` answers one request (ETag and ``If-None-Match``, ``HEAD``);
``public_url(base_url, key)`` is the address under which the API serves a public key, for links in CAP
messages, the Atom feed and release metadata.
"""

from __future__ import annotations

import hashlib
import os
import stat as stat_module
from email.utils import formatdate

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from warehouse.object_store import LocalObjectStore, ObjectNotFoundError, ObjectStore, public_url

SERVED_PREFIXES = ("releases/", "public/")
CONTENT_TYPES = {
    ".cap.xml": "application/cap+xml",
    ".atom": "application/atom+xml",
    ".csv": "text/csv; charset=utf-8",
    ".parquet": "application/vnd.apache.parquet",
    ".geojson": "application/geo+json",
    ".json": "application/json",
    ".ttl": "text/turtle; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml",
}
PLAIN = "text/plain; charset=utf-8"  # SHA256SUMS and other files without an extension
CACHE_CONTROL = "public, max-age=60"
__all__ = ["content_type", "public_url", "servable", "store_response"]


def content_type(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    for suffix, ctype in CONTENT_TYPES.items():
        if name.endswith(suffix):
            return ctype
    return PLAIN if "." not in name else "application/octet-stream"


def servable(key: str) -> bool:
    """Only keys below a served prefix, without empty, ``.``/``..`` segments, backslashes or control characters."""
    parts = key.split("/")
    return (
        key.startswith(SERVED_PREFIXES)
        and all(p not in ("", ".", "..") for p in parts)
        and "\\" not in key
        and not any(ord(c) < 32 or c == "\x7f" for c in key)
    )


def _not_found() -> Response:
    return PlainTextResponse("Not Found", status_code=404)


def store_response(store: ObjectStore, key: str, request: Request) -> Response:
    """The object ``key`` of ``store`` as an HTTP response (404 when absent or outside the served prefixes)."""
    if not servable(key):
        return _not_found()
    ctype = content_type(key)
    if isinstance(store, LocalObjectStore):  # a folder: let Starlette stream the file (ranges, ETag, 304)
        path = store.local_path(key)
        # a link inside a served folder must not lead out of it (e.g. to the ops DB or private keyframes)
        served_root = os.path.realpath(store.root / key.split("/", 1)[0])
        if not os.path.realpath(path).startswith(served_root + os.sep):
            return _not_found()
        try:
            stat = os.stat(path)
        except (OSError, ValueError):
            return _not_found()
        if not stat_module.S_ISREG(stat.st_mode):
            return _not_found()
        resp = FileResponse(path, media_type=ctype, headers={"Cache-Control": CACHE_CONTROL}, stat_result=stat)
        if resp.headers.get("etag", "-") in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers={"ETag": resp.headers["etag"], "Cache-Control": CACHE_CONTROL})
        return resp
    try:
        data = store.get_bytes(key)
    except ObjectNotFoundError:
        return _not_found()
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Date": formatdate(usegmt=True)}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    body = b"" if request.method == "HEAD" else data
    headers["Content-Length"] = str(len(data))
    return Response(body, media_type=ctype, headers=headers)
