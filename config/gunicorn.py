"""
Gunicorn settings for ``make serve`` and ``make run`` (``gunicorn -c config/gunicorn.py config.wsgi``).

Every value can be changed from the environment:

- ``APPARATUS_BIND``: address to listen on, default ``127.0.0.1:8000`` (a
  reverse proxy in front terminates HTTPS and sets ``X-Forwarded-Proto``);
- ``APPARATUS_WORKERS``: worker processes, default 2 × cores + 1, at most 12;
- ``APPARATUS_THREADS``: threads per worker, default 1 (sync workers); more
  than 1 runs gthread workers. ``make run`` serves from one process with 8
  threads: SQLite takes one writer at a time whatever the number of
  processes, and one process keeps the in-memory cache (rate-limit counts,
  rendered pages) whole without Redis;
- ``APPARATUS_TIMEOUT``: seconds before a silent worker is killed, default 30;
- ``APPARATUS_MAX_REQUESTS``: recycle a worker after this many requests
  (with 10 % jitter), default 0 = never;
- ``APPARATUS_ACCESS_LOG``: access log file, ``-`` (standard output) by default,
  empty to turn it off;
- ``APPARATUS_FORWARDED_ALLOW_IPS``: proxies trusted for ``X-Forwarded-*``,
  default ``127.0.0.1``;
- ``PROMETHEUS_MULTIPROC_DIR``: where the workers keep their metrics for
  ``/metrics`` (config.metrics), emptied at start; by default a new temporary
  folder, removed when the server stops.
"""

import glob
import multiprocessing
import os
import shutil
import tempfile

bind = os.environ.get("APPARATUS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("APPARATUS_WORKERS") or min(2 * multiprocessing.cpu_count() + 1, 12))
threads = int(os.environ.get("APPARATUS_THREADS") or 1)
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("APPARATUS_TIMEOUT", "30"))
graceful_timeout = 30
# Load the application once in the master: workers share its memory. (The release id that keys
# the ETags, settings.APPARATUS_RELEASE, is the same in every worker and on every host anyway.)
preload_app = True
max_requests = int(os.environ.get("APPARATUS_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
forwarded_allow_ips = os.environ.get("APPARATUS_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Requests larger than these are refused before Django sees them.
limit_request_line = 8190
limit_request_fields = 100

# No control socket: it lives at one path per user, so a second server on the machine (a test, the
# load test) would take it over; nothing here uses it.
control_socket_disable = True

accesslog = os.environ.get("APPARATUS_ACCESS_LOG", "-") or None
errorlog = "-"
# Both logs as JSON lines, the access line with the request's id (config.access_log).
logger_class = "config.access_log.JsonLogger"

# Metrics from every worker, summed on each scrape: prometheus_client's multiprocess mode, each
# process writing its counters to files in one folder. Set here, before the application (and so
# prometheus_client) is loaded.
METRICS_DIR_MADE = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if METRICS_DIR_MADE:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="apparatus-metrics-")


def on_starting(server):
    # Counts left by an earlier server would be added to this one's.
    for path in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
        os.remove(path)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if METRICS_DIR_MADE:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def post_fork(server, worker):
    # Never share a database connection opened in the master with a worker.
    from django.db import connections

    connections.close_all()


def when_ready(server):
    # With preload_app the master has loaded Django, but the URLconf (and with it every view) and
    # the cache's client library are imported by each worker's first requests, seconds of CPU
    # apiece. Import them here, once: every worker, a replacement for one that died too, forks
    # with them and serves at once. Nothing connects: no database or cache connection is opened.
    from django.core.cache import cache
    from django.urls import get_resolver

    get_resolver().resolve("/")
    getattr(cache, "_cache", None)
