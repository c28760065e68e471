"""
One id per request, on every log line it causes: the app's, the access log's
(``config.access_log``) and the task worker's for the tasks it enqueued.

``RequestIdMiddleware`` (first in ``settings.MIDDLEWARE``) takes the id from an
incoming ``X-Request-ID`` only when a trusted proxy stands in front
(``settings.TRUSTED_PROXIES`` > 0, the proxy setting or overwriting it) and the
value is sane: 1 to 64 characters of ``A-Z a-z 0-9 . _ -``. Anything else (no
proxy, newlines, 10 KB of junk) gets a fresh uuid4 hex: a client can neither
write into the logs nor pass itself off as another request. The id is held in
a context variable until the response is closed and returned as ``X-Request-ID``.

``RequestIdFilter`` puts it on every log record (``request_id``, ``None``
outside a request). Tasks carry it as a ``request_id`` keyword argument, added
by ``enqueue`` and taken off by ``@carries_request_id``; while the worker runs
the task, its lines (its own "Task id=… state=…" ones too) carry the id
(``follow_tasks``).
"""

import functools
import logging
import re
import uuid
from contextvars import ContextVar

from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver

HEADER = "X-Request-ID"
SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")
REQUEST_ID = ContextVar("request_id", default=None)


def current():
    """The id of the request (or task) being handled, or ``None``."""
    return REQUEST_ID.get()


def new_id():
    return uuid.uuid4().hex


def incoming_id(request):
    """The proxy's ``X-Request-ID`` if a proxy is trusted and the value is sane, else a new id."""
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    if settings.TRUSTED_PROXIES > 0 and SANE.fullmatch(given):
        return given
    return new_id()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = incoming_id(request)
        # Held until the response is closed (``forget``), not just until it leaves the middleware:
        # Django logs a 4xx or 5xx ("Not Found: /…") after every middleware has returned.
        REQUEST_ID.set(request.id)
        response = self.get_response(request)
        response[HEADER] = request.id
        return response


@receiver(request_finished, dispatch_uid="apparatus-request-id")
def forget(sender, **kwargs):
    REQUEST_ID.set(None)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record a handler writes."""

    def filter(self, record):
        record.request_id = REQUEST_ID.get()
        return True


# --- Tasks ------------------------------------------------------------------------


def enqueue(task, *args, **kwargs):
    """``task.enqueue(*args, **kwargs)``, carrying the current request's id to the task."""
    return task.enqueue(*args, request_id=current(), **kwargs)


def carries_request_id(function):
    """For a task function: accept the ``request_id`` that ``enqueue`` adds (the id is set by ``follow_tasks``)."""

    @functools.wraps(function)
    def run(*args, request_id=None, **kwargs):
        return function(*args, **kwargs)

    return run


_entered = {}  # task result id -> the token that restores the id in force before the task ran


def enter_task(sender, task_result, **kwargs):
    _entered[task_result.id] = REQUEST_ID.set(task_result.kwargs.get("request_id") or current())


def leave_task(sender, task_result, **kwargs):
    token = _entered.pop(task_result.id, None)
    if token is not None:
        REQUEST_ID.reset(token)


def follow_tasks():
    """
    Run each task under its request's id, from its "started" line to its
    "finished" one. django-tasks logs "started" in a receiver of its own, connected
    first: it is moved behind ours so that line carries the id too.
    """
    from django_tasks.signals import log_task_started, task_finished, task_started

    task_started.disconnect(log_task_started)
    task_started.connect(enter_task, dispatch_uid="apparatus-request-id")
    task_started.connect(log_task_started)
    task_finished.connect(leave_task, dispatch_uid="apparatus-request-id")  # after django-tasks' "finished" line
