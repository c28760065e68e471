"""
``/metrics``: the Prometheus metrics of every worker process, for a scraper
on the host itself or one holding the token; for anyone else the address
doesn't exist (404).

What is counted (django-prometheus and ``config.cache_metrics``): requests by
view, method and status, with latencies (``django_http_*``); database
connections, queries, errors and query durations by alias
(``django_db_*``); cache reads, hits and misses by backend
(``django_cache_get_*``); and, read from the task table at each scrape
(``TaskQueueCollector``), the tasks by status (``apparatus_tasks``), those
due now and the age of the oldest of them.

Gunicorn runs several worker processes, each with its own counters: its
configuration (``config/gunicorn.py``) puts prometheus_client in
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``), each process writing its
counts to files that a scrape sums, whichever worker answers it. A single
process (``runserver``, the tests) serves its own counters.

A scrape is allowed from an address in ``APPARATUS_METRICS_ALLOWED_IPS``
(addresses or networks, default ``127.0.0.1,::1``), the client's address
read as everywhere else (``settings.TRUSTED_PROXIES`` hops from the right of
``X-Forwarded-For``, else the connecting address: through a proxy on the same
host, the outside client's address counts, not the proxy's); or from anywhere
with ``Authorization: Bearer <APPARATUS_METRICS_TOKEN>``.
"""

import hmac
import ipaddress
import logging

import prometheus_client
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe
from prometheus_client import CollectorRegistry, multiprocess, values
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger("apparatus.metrics")


def client_address(request):
    """The client's address: ``TRUSTED_PROXIES`` hops from the right of ``X-Forwarded-For``, else the peer's."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if settings.TRUSTED_PROXIES > 0 and forwarded:
        hops = forwarded.split(",")
        return hops[-min(settings.TRUSTED_PROXIES, len(hops))].strip()
    return request.META.get("REMOTE_ADDR", "")


def allowed_address(address):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(allowed, strict=False) for allowed in settings.METRICS_ALLOWED_IPS)


def has_token(request):
    token = settings.METRICS_TOKEN
    given = request.META.get("HTTP_AUTHORIZATION", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def may_scrape(request):
    return has_token(request) or allowed_address(client_address(request))


class TaskQueueCollector:
    """The task table (django-tasks' database backend) counted at scrape time."""

    def collect(self):
        from django_tasks import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        tasks = GaugeMetricFamily("apparatus_tasks", "Tasks in the task table, by status.", labels=["status"])
        due = GaugeMetricFamily("apparatus_tasks_due", "Tasks ready to run now (not deferred to later).")
        age = GaugeMetricFamily("apparatus_tasks_oldest_due_age_seconds", "Age of the oldest task ready to run now.")
        try:
            counts = dict(DBTaskResult.objects.values_list("status").annotate(n=Count("pk")).order_by())
            ready = DBTaskResult.objects.ready().aggregate(n=Count("pk"), oldest=Min("enqueued_at"))
        except DatabaseError:
            logger.warning("task counts not read for /metrics", exc_info=True)
            return
        for status in TaskResultStatus.values:
            tasks.add_metric([status.lower()], counts.get(status, 0))
        due.add_metric([], ready["n"])
        oldest = ready["oldest"]
        age.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0)
        yield from (tasks, due, age)


SCRAPE_TIME = CollectorRegistry()
SCRAPE_TIME.register(TaskQueueCollector())


def process_counters():
    """Every worker's counters in multiprocess mode (summed from their files), else this process's own."""
    if values.ValueClass is values.MutexValue:
        return prometheus_client.REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


@require_safe
def metrics(request):
    if not may_scrape(request):
        raise Http404
    body = prometheus_client.generate_latest(process_counters()) + prometheus_client.generate_latest(SCRAPE_TIME)
    response = HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
