"""
Reads from the streaming replica, for the requests that may see the archive a moment old.

With ``DATABASE_REPLICA_URL`` set there is a second database alias, ``replica``: a hot standby
streaming from the primary (``default``). ``ReplicaReadsMiddleware`` decides, per request and from
its headers alone (no query), whether its reads may go there; ``ReplicaReadsRouter`` sends them.

Reads go to the replica only for an anonymous reader who hasn't written lately: a safe method
(GET, HEAD, OPTIONS), no session cookie, no ``Authorization`` header, no primary pin. Everything
else reads from the primary: anyone logged in (a session or an API token, so a user is never
shown their own state a moment old), any write, anything inside a transaction, and everything
outside a request (management commands, the task worker, the shell).

Read-your-writes: a request that writes (any unsafe method, or a write the router sees during a
GET) reads from the primary for the rest of the request, and its answer sets a signed cookie that
keeps that client on the primary for ``APPARATUS_PRIMARY_PIN_SECONDS`` (longer than the replica
may lag before ``/readyz`` fails), so whoever just wrote sees it on the next page.

A replica that doesn't answer is skipped: the request reads from the primary, and for
``REPLICA_RETRY_SECONDS`` no request of this process tries the replica again. One that fails in
the middle of a (safe, so repeatable) request has that request answered again from the primary.
"""

import contextvars
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections

REPLICA = "replica"
PIN_COOKIE = "apparatus_primary"
PIN_SALT = "apparatus.primary-pin"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
REPLICA_RETRY_SECONDS = 5

logger = logging.getLogger(__name__)


@dataclass
class Routing:
    """What one request may read from: ``replica`` until it writes."""

    replica: bool
    wrote: bool = False
    replica_failed: bool = False


_routing = contextvars.ContextVar("apparatus_routing", default=None)
_replica_down_until = [0.0]


def replica_configured():
    return REPLICA in connections.settings


def mark_replica_down():
    """The replica failed: this process reads from the primary for a while."""
    _replica_down_until[0] = time.monotonic() + REPLICA_RETRY_SECONDS


def replica_answers():
    """Whether the replica's connection works now (connecting, or replacing a dropped one)."""
    if time.monotonic() < _replica_down_until[0]:
        return False
    connection = connections[REPLICA]
    try:
        connection.close_if_health_check_failed()
        connection.ensure_connection()
    except DatabaseError:
        logger.warning("The replica does not answer: reading from the primary.", exc_info=True)
        mark_replica_down()
        return False
    return True


def replica_failed():
    """
    A database error in this request: if it was reading from the replica, say so (the middleware
    answers it again from the primary) and skip the replica for a while. Whether it was.
    """
    routing = _routing.get()
    if routing is None or not routing.replica:
        return False
    routing.replica_failed = True
    mark_replica_down()
    return True


def may_read_stale(request):
    """A safe request of an anonymous reader who hasn't written lately."""
    return (
        request.method in SAFE_METHODS
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "HTTP_AUTHORIZATION" not in request.META
        and request.get_signed_cookie(PIN_COOKIE, default=None, salt=PIN_SALT, max_age=settings.PRIMARY_PIN_SECONDS)
        is None
    )


class ReplicaReadsMiddleware:
    """Sets the request's routing before anything reads (the page cache's ETag lookup included)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        routing = Routing(replica=may_read_stale(request) and replica_answers())
        response = self.respond(request, routing)
        if routing.replica_failed:
            # The replica failed during a safe request (it stopped under it): once more from the primary.
            logger.warning("The replica failed during %s %s: answered from the primary.", request.method, request.path)
            routing = Routing(replica=False)
            response = self.respond(request, routing)
        if routing.wrote or request.method not in SAFE_METHODS:
            response.set_signed_cookie(
                PIN_COOKIE,
                "1",
                salt=PIN_SALT,
                max_age=settings.PRIMARY_PIN_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    def respond(self, request, routing):
        token = _routing.set(routing)
        try:
            return self.get_response(request)
        finally:
            _routing.reset(token)


class ReplicaReadsRouter:
    """Reads to the replica when the request allows it; writes, migrations and transactions to the primary."""

    def db_for_read(self, model, **hints):
        routing = _routing.get()
        if routing is None or not routing.replica or connections["default"].in_atomic_block:
            return "default"
        return REPLICA

    def db_for_write(self, model, **hints):
        routing = _routing.get()
        if routing is not None:
            # Read your writes: the rest of this request, and this client's next ones, read the primary.
            routing.replica = False
            routing.wrote = True
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies of it

    def allow_migrate(self, db, app_label, **hints):
        return db != REPLICA  # the standby is read-only: it gets the primary's schema by streaming
