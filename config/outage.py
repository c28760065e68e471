"""
A database that doesn't answer is an outage, not a bug: 503 with ``Retry-After``, never a 500.

``DatabaseOutageMiddleware`` answers for the views (and DRF's views, through
``config.api.exception_handler``); ``config.api_views.server_error`` for what fails in a
middleware before any view (a session, the page cache's ETag lookup). Both name no detail and
show no traceback: the error goes to the log. A read that failed on the replica is answered
again from the primary instead (``config.replica_reads``).
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse

from .api import error_response, is_api_request
from .replica_reads import replica_failed

RETRY_AFTER_SECONDS = 5
OUTAGE_ERRORS = (OperationalError, InterfaceError)
PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Unavailable: Apparatus</title></head>'
    "<body><h1>Unavailable for a moment</h1><p>The archive can't reach its database. "
    f"Please try again in {RETRY_AFTER_SECONDS} seconds.</p></body></html>"
)

logger = logging.getLogger(__name__)


def is_outage(exception):
    return isinstance(exception, OUTAGE_ERRORS)


def outage_response(request, exception):
    if replica_failed():
        # config.replica_reads answers the request again from the primary: this answer is never sent.
        logger.warning("The replica failed during %s %s.", request.method, request.path, exc_info=exception)
        return HttpResponse(status=503)
    logger.error("The database did not answer %s %s: 503.", request.method, request.path, exc_info=exception)
    if is_api_request(request):
        response = error_response(503, "unavailable", "The database is unavailable; try again shortly.")
    else:
        response = HttpResponse(PAGE, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return outage_response(request, exception) if is_outage(exception) else None
