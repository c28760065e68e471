"""
Health, for load balancers, supervisors and monitors.

``/healthz`` (liveness): 200 ``{"status": "ok", "release": …}`` whenever this process can answer
at all. It touches neither the database nor the cache: a supervisor that restarts processes whose
liveness fails would otherwise restart every web server during a database outage, which cures
nothing (they answer 503 with ``Retry-After`` meanwhile, see ``config.outage``, and recover on their
own when it ends).

``/readyz`` (readiness): whether this process should be sent traffic. 200 when every part
answers; 503 naming the parts that don't:

- ``database``: the primary answers ``SELECT 1``;
- ``replica`` (with ``DATABASE_REPLICA_URL``): it answers and replays at most
  ``APPARATUS_MAX_REPLICA_LAG`` seconds behind the primary;
- ``cache``: a value set in the cache (Redis) is read back;
- ``tasks`` (with the database task backend): no task has waited to run longer than
  ``APPARATUS_MAX_TASK_WAIT`` seconds, and at most ``APPARATUS_MAX_TASK_BACKLOG`` wait.

Both need no login, are never cached, are exempt from the HTTPS redirect (see settings) and from
the anonymous page cache.
"""

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections
from django.db.models import Case, Count, F, Min, When
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .replica_reads import REPLICA, replica_configured

logger = logging.getLogger(__name__)

# Replay lag of a hot standby: none when it has replayed all it received, else the age of the last
# transaction it replayed (the primary is writing, the standby is behind by that much).
REPLICA_LAG_SQL = (
    "SELECT pg_is_in_recovery(), CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)


@require_safe
@never_cache
def healthz(request):
    return JsonResponse({"status": "ok", "release": settings.APPARATUS_RELEASE})


def check_database():
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def replica_lag():
    """Seconds the replica replays behind the primary (0 for a mirror that is no standby: the tests')."""
    connection = connections[REPLICA]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute("SELECT 1")
            return 0.0
        cursor.execute(REPLICA_LAG_SQL)
        in_recovery, lag = cursor.fetchone()
    return float(lag) if in_recovery else 0.0


def check_replica():
    lag = replica_lag()
    if lag > settings.MAX_REPLICA_LAG:
        return f"lagging {lag:.1f} s (more than {settings.MAX_REPLICA_LAG:g} s)"
    return "ok"


def check_cache():
    key, value = f"readyz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, 10)
    answered = cache.get(key)
    cache.delete(key)
    return "ok" if answered == value else "unavailable"


def check_tasks():
    from django_tasks_db.models import DBTaskResult, get_date_max

    waiting = (
        DBTaskResult.objects.using("default")
        .ready()
        # Ready since it was enqueued, or since the time it was to run after (a retry).
        .annotate(ready_since=Case(When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after")))
        .aggregate(count=Count("pk"), oldest=Min("ready_since"))
    )
    if waiting["count"] > settings.MAX_TASK_BACKLOG:
        return f"{waiting['count']} tasks waiting (more than {settings.MAX_TASK_BACKLOG})"
    if waiting["oldest"] is not None:
        wait = (timezone.now() - waiting["oldest"]).total_seconds()
        if wait > settings.MAX_TASK_WAIT:
            return f"the oldest task has waited {wait:.0f} s (more than {settings.MAX_TASK_WAIT} s)"
    return "ok"


def readiness_checks():
    checks = {"database": check_database}
    if replica_configured():
        checks["replica"] = check_replica
    checks["cache"] = check_cache
    if settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend":
        checks["tasks"] = check_tasks
    return checks


@require_safe
@never_cache
def readyz(request):
    parts = {}
    for name, check in readiness_checks().items():
        try:
            parts[name] = check()
        except DatabaseError:
            logger.warning("Readiness: %s did not answer.", name, exc_info=True)
            parts[name] = "unavailable"
    failing = sorted(name for name, state in parts.items() if state != "ok")
    body = {"status": "unavailable" if failing else "ok", **parts}
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=503 if failing else 200)
