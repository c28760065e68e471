"""
The per-process cache of immutable values (config.object_cache): a value comes
back as the very object stored, not a copy; the least recently used goes first
once it is full; timeouts, ``add`` and ``clear`` behave as Django's own.
"""

import time

import pytest

from config.cache_metrics import ImmutableObjectCache as CountedCache
from config.object_cache import ImmutableObjectCache


def cache(max_entries=3):
    return ImmutableObjectCache(f"test-{time.monotonic_ns()}", {"OPTIONS": {"MAX_ENTRIES": max_entries}})


def test_a_value_comes_back_as_the_object_stored():
    kept, value = cache(), (b"x" * 1000, "head")
    kept.set("body", value, None)
    assert kept.get("body") is value
    assert kept.get("other", "default") == "default"


def test_the_least_recently_read_goes_first_when_full():
    kept = cache(max_entries=3)
    for key in "abc":
        kept.set(key, key, None)
    kept.get("a")
    kept.set("d", "d", None)
    assert kept.get("a") == "a" and kept.get("d") == "d"
    assert kept.get("b") is None  # culled: the least recently used


def test_timeouts_add_and_clear_are_django_s(monkeypatch):
    kept = cache()
    kept.set("short", 1, 10)
    assert not kept.add("short", 2) and kept.add("new", 3)
    later = time.time() + 11
    monkeypatch.setattr(time, "time", lambda: later)
    assert kept.get("short") is None and kept.add("short", 4) and kept.get("short") == 4
    kept.clear()
    assert kept.get("new") is None
    with pytest.raises(NotImplementedError):
        kept.incr("new")


def test_its_reads_are_counted_for_the_metrics():
    from django_prometheus.cache.metrics import django_cache_hits_total, django_cache_misses_total

    counted = CountedCache(f"test-{time.monotonic_ns()}", {})
    hits, misses = (metric.labels(backend="objects") for metric in (django_cache_hits_total, django_cache_misses_total))
    before = hits._value.get(), misses._value.get()
    counted.set("stored", 0, None)
    assert counted.get("stored") == 0 and counted.get("absent") is None
    assert (hits._value.get(), misses._value.get()) == (before[0] + 1, before[1] + 1)
