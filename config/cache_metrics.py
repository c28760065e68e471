"""
Cache backends that count their reads for ``/metrics`` (``config.metrics``):
``django_cache_get_total``, ``…_get_hits_total`` and ``…_get_misses_total`` by
backend, django-prometheus's own counters. ``settings.py`` puts them in place
of Django's for every cache alias (its "Observability" block).

django-prometheus ships such backends too, but its in-memory one answers the
default for a stored falsy value (a count of 0, an empty list) and its Redis
ones need django-redis; a read is told from a miss here by a marker object,
so any stored value comes back as it was.
"""

from django.core.cache.backends import locmem, redis
from django_prometheus.cache.metrics import django_cache_get_total, django_cache_hits_total, django_cache_misses_total

from config import object_cache

MISSING = object()


class CountedReads:
    metrics_backend = ""

    def get(self, key, default=None, version=None):
        value = super().get(key, MISSING, version=version)
        django_cache_get_total.labels(backend=self.metrics_backend).inc()
        if value is MISSING:
            django_cache_misses_total.labels(backend=self.metrics_backend).inc()
            return default
        django_cache_hits_total.labels(backend=self.metrics_backend).inc()
        return value


class LocMemCache(CountedReads, locmem.LocMemCache):
    metrics_backend = "locmem"


class RedisCache(CountedReads, redis.RedisCache):
    metrics_backend = "redis"


class ImmutableObjectCache(CountedReads, object_cache.ImmutableObjectCache):
    metrics_backend = "objects"
