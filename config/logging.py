"""
Log lines as JSON, one object a line, for the structured logs (moderation
decisions) that a log pipeline parses.

A record's ``fields`` (passed as ``extra={"fields": {...}}``) are merged into
the object beside ``time``, ``level``, ``logger`` and ``message``.
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
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
