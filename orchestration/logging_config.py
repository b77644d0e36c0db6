"""Structured JSON logs: one JSON object per line on stderr, for every Pantau process.

``configure_logging()`` is called once by each entry point (capture worker, API, Dagster code location via
``deploy/dagster.yaml``'s ``python_logs.dagster_handler_config``). Fields: ``ts`` (UTC ISO-8601), ``level``,
``logger``, ``msg``, ``process``, ``thread``, ``exc`` (traceback text) and every ``extra={...}`` key, e.g.
``log.info("landed", extra={"camera_id": c, "rows": n})``. The settings ``log_format`` (``text``: plain lines
for a terminal) and ``log_level`` apply unless the caller passes explicit values.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestration.settings import PantauSettings

from ingest.registry.secrets import RedactFilter

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line; non-JSON values are rendered with ``str``."""

    def __init__(self, static: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.static = dict(static or {})

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "process": record.process,
            "thread": record.threadName,
            **self.static,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, default=str, ensure_ascii=False)


def configure_logging(
    level: str | int | None = None,
    fmt: str | None = None,
    stream: IO[str] | None = None,
    static: dict[str, Any] | None = None,
    settings: PantauSettings | None = None,
) -> logging.Handler:
    """Replace the root handlers with one JSON (or text) handler; returns it. Idempotent.

    ``level``/``fmt`` default to the ``settings``' ``log_level``/``log_format`` (loaded now when not given).
    """
    if level is None or fmt is None:
        from orchestration.settings import load_settings

        s = settings or load_settings()
        level = level or s.log_level
        fmt = fmt or s.log_format
    fmt = fmt.lower()
    handler = logging.StreamHandler(stream or sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter(static))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_pantau", False):
            root.removeHandler(h)
    handler._pantau = True  # type: ignore[attr-defined]
    handler.addFilter(RedactFilter())  # stream credentials resolved by this process never reach a log line
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else str(level).upper())
    for noisy in ("urllib3", "botocore", "kombu", "amqp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler
