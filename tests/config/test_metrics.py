"""
``/metrics`` answers the host itself (or the token) with request, database,
cache and task-queue metrics, never cached; from anywhere else it does not
exist. The counting cache backends give back every stored value as it was.
"""

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from config.cache_metrics import LocMemCache
from tests.ops.test_observability import metric

pytestmark = pytest.mark.django_db

OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}


def scrape(client, **extra):
    response = client.get("/metrics", **extra)
    return response, response.content.decode() if response.status_code == 200 else ""


def test_from_outside_metrics_do_not_exist(client):
    response, _ = scrape(client, **OUTSIDE)
    assert response.status_code == 404


@pytest.mark.parametrize("forwarded", ["203.0.113.9", "127.0.0.1, 203.0.113.9"])
@override_settings(TRUSTED_PROXIES=1)
def test_through_a_proxy_on_the_host_the_outside_client_counts(client, forwarded):
    # The proxy connects from 127.0.0.1; the client it names is outside (a forged first hop changes nothing).
    response, _ = scrape(client, HTTP_X_FORWARDED_FOR=forwarded)
    assert response.status_code == 404


@override_settings(METRICS_TOKEN="s3cret-token")
def test_the_token_opens_metrics_from_anywhere(client):
    assert scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-token", **OUTSIDE)[0].status_code == 200
    assert scrape(client, HTTP_AUTHORIZATION="Bearer wrong", **OUTSIDE)[0].status_code == 404
    assert scrape(client, HTTP_AUTHORIZATION="Token s3cret-token", **OUTSIDE)[0].status_code == 404


@override_settings(METRICS_ALLOWED_IPS=["10.1.0.0/16"])
def test_allowed_networks_are_settings(client):
    assert scrape(client, REMOTE_ADDR="10.1.2.3")[0].status_code == 200
    assert scrape(client)[0].status_code == 404  # 127.0.0.1 is no longer in the list


def test_from_the_host_metrics_count_requests_queries_cache_reads_and_tasks(client):
    _, before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    DBTaskResult.objects.create(
        task_path="annotations.tasks.send_notification_email", args_kwargs={}, backend_name="default"
    )
    DBTaskResult.objects.create(
        task_path="annotations.tasks.send_notification_email", args_kwargs={}, backend_name="default",
        status=TaskResultStatus.FAILED,
    )  # fmt: skip
    response, text = scrape(client)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert response["Content-Type"].startswith("text/plain")

    def grew(name, **labels):
        return metric(text, name, **labels) - metric(before, name, **labels)

    assert (
        grew("django_http_responses_total_by_status_view_method_total", method="GET", status="200", view="healthz") == 3
    )
    assert grew("django_db_execute_total", alias="default", vendor=connection.vendor) >= 3
    assert metric(text, "apparatus_tasks", status="ready") == 1
    assert metric(text, "apparatus_tasks", status="failed") == 1
    assert metric(text, "apparatus_tasks", status="running") == 0
    assert metric(text, "apparatus_tasks_due") == 1
    assert "apparatus_tasks_oldest_due_age_seconds" in text
    assert "django_cache_get_total" in text


def test_metrics_are_never_cached_and_take_no_post(client):
    assert client.get("/metrics")["Cache-Control"] == "no-store"
    assert client.post("/metrics").status_code == 405


def test_the_counting_cache_counts_hits_and_misses_and_keeps_falsy_values():
    cache = LocMemCache("metrics-test", {})
    cache.set("zero", 0)
    cache.set("empty", [])
    assert cache.get("zero") == 0 and cache.get("empty") == [] and cache.get("absent", "default") == "default"
    assert cache.get_or_set("made", 0) == 0 and cache.get("made") == 0


def test_every_database_and_cache_is_counted():
    assert all(db["ENGINE"] in settings.METRICS_ENGINES.values() for db in settings.DATABASES.values())
    assert all(cache["BACKEND"] in settings.METRICS_CACHES.values() for cache in settings.CACHES.values())
