"""Stream credentials as references to secrets, never as values in the lake, releases or logs.

A camera row holds ``secret_ref``: ``env:NAME`` (the environment variable ``NAME`` holds ``user:password``) or
``file:KEY`` (``KEY`` in the secrets file, a JSON object written with mode 0600 outside the lake). The stored
``stream_url`` never carries a user or password; the capture worker puts them back only in memory, just before
it opens the stream (``with_credentials``). A URL given with credentials (``rtsp://user:pw@host/...``) is split on
the way in: the user info goes to the secrets file, the URL without it to the registry.

``RedactFilter`` replaces every secret value this process resolved with ``***`` in log records, as a second line
of defence for libraries that echo URLs in their error messages.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

SECRET_REF = re.compile(r"^(env|file):([A-Za-z0-9_./-]{1,128})$")
MASK = "***"

_known: set[str] = set()
_known_lock = threading.Lock()


def is_secret_ref(ref: str | None) -> bool:
    return bool(ref) and SECRET_REF.match(str(ref)) is not None


def split_credentials(url: str) -> tuple[str, str | None]:
    """``(url without user info, "user:password" or None)``; the password part may be empty."""
    if not url or "@" not in url:
        return url, None
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    user = unquote(parts.username or "")
    password = unquote(parts.password) if parts.password is not None else None
    return clean, user if password is None else f"{user}:{password}"


def has_credentials(url: str | None) -> bool:
    return bool(url) and split_credentials(str(url))[1] is not None


def with_credentials(url: str, userinfo: str | None) -> str:
    """Put ``user:password`` back into ``url`` (in memory only, for opening the stream)."""
    if not userinfo:
        return url
    parts = urlsplit(url)
    user, sep, password = userinfo.partition(":")
    cred = quote(user, safe="") + (":" + quote(password, safe="") if sep else "")
    return urlunsplit((parts.scheme, f"{cred}@{parts.netloc}", parts.path, parts.query, parts.fragment))


def remember(value: str | None) -> None:
    """Register a secret value so ``redact`` and ``RedactFilter`` mask it (and its password part)."""
    if not value:
        return
    with _known_lock:
        _known.add(value)
        _, sep, password = value.partition(":")
        if sep and len(password) >= 4:
            _known.add(password)
            _known.add(quote(password, safe=""))


def redact(text: str, extra: Iterable[str] = ()) -> str:
    with _known_lock:
        values = sorted(_known | {v for v in extra if v}, key=len, reverse=True)
    for v in values:
        if v in text:
            text = text.replace(v, MASK)
    return text


class RedactFilter(logging.Filter):
    """Masks known secret values in a record's message and arguments (attach to handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _known:
            return True
        try:
            msg = record.getMessage()
        except Exception:  # a malformed record is logged as is
            return True
        clean = redact(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            text = redact(str(record.exc_info[1]))
            if text != str(record.exc_info[1]):
                record.exc_info = None
                record.exc_text = None
                record.msg = f"{record.msg} ({text})"
        return True


def install_redaction(logger: logging.Logger | None = None) -> None:
    """Add one ``RedactFilter`` to every handler of ``logger`` (default: the root logger)."""
    lg = logger or logging.getLogger()
    for h in lg.handlers:
        if not any(isinstance(f, RedactFilter) for f in h.filters):
            h.addFilter(RedactFilter())


class SecretsFile:
    """A JSON object ``{key: "user:password"}`` written atomically with mode 0600."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        if not isinstance(data, dict):
            raise ValueError(f"secrets file {self.path} must hold a JSON object")
        return {str(k): str(v) for k, v in data.items()}

    def get(self, key: str) -> str | None:
        return self.read().get(key)

    def put_many(self, values: Mapping[str, str]) -> None:
        if not values:
            return
        data = self.read()
        data.update(values)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".secrets-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class SecretResolver:
    """Resolves ``env:NAME`` from ``environ`` and ``file:KEY`` from the secrets file; remembers what it returns."""

    def __init__(self, secrets_file: str | Path | None = None, environ: Mapping[str, str] | None = None) -> None:
        self.file = SecretsFile(secrets_file) if secrets_file else None
        self.environ = environ if environ is not None else os.environ

    def resolve(self, ref: str | None) -> str | None:
        if not ref:
            return None
        m = SECRET_REF.match(ref)
        if m is None:
            raise ValueError(f"bad secret reference {ref!r}: use env:NAME or file:KEY")
        kind, key = m.group(1), m.group(2)
        value = self.environ.get(key) if kind == "env" else (self.file.get(key) if self.file else None)
        if value is None:
            raise KeyError(f"secret {ref} is not set")
        remember(value)
        return value

    def stream_url(self, url: str, ref: str | None) -> str:
        """The URL to open: ``url`` with the referenced credentials (unchanged without a reference)."""
        return with_credentials(url, self.resolve(ref)) if ref else url
