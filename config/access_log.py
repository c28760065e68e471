"""
Gunicorn's logs as JSON lines, like the app's (``config.logging``): gunicorn's
``logger_class`` in ``config/gunicorn.py``.

An access line is one object with the request's id (the response's
``X-Request-ID``, set by ``config.request_id``; ``null`` when Django never saw
the request), method, path, query, status, bytes sent, duration in
milliseconds, client address, referrer and user agent. Gunicorn's own
``access_log_format`` escapes only double quotes, so a crafted path could
break a JSON template: the line is built with ``json.dumps`` instead.
"""

import traceback

from gunicorn.glogging import Logger

from config.logging import JsonFormatter


def access_fields(resp, environ, request_time):
    """What one access line says about a request (``request_time`` a ``timedelta``)."""
    status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
    headers = {name.lower(): value for name, value in resp.headers}
    return {
        "request_id": headers.get("x-request-id"),
        "method": environ.get("REQUEST_METHOD"),
        "path": environ.get("PATH_INFO"),
        "query": environ.get("QUERY_STRING", ""),
        "status": int(status),
        "bytes": getattr(resp, "sent", None),
        "duration_ms": round(request_time.total_seconds() * 1000, 1),
        "client": environ.get("REMOTE_ADDR"),
        "referrer": environ.get("HTTP_REFERER"),
        "user_agent": environ.get("HTTP_USER_AGENT"),
    }


class JsonLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        for handler in self.error_log.handlers + self.access_log.handlers:
            handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        try:
            self.access_log.info("request", extra={"fields": access_fields(resp, environ, request_time)})
        except Exception:
            self.error(traceback.format_exc())  # as gunicorn's own: a log line never fails a request
