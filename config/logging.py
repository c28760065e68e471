"""
Log lines as JSON, one object a line: every log of the app, the task worker
and gunicorn (``config.access_log``) is written so, for a log pipeline to parse.

A record's ``fields`` (passed as ``extra={"fields": {...}}``) are merged into
the object beside ``time``, ``level``, ``logger``, ``message`` and
``request_id`` (``config.request_id``; ``null`` outside a request or task).
"""

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
