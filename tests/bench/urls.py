"""The site's URLs plus ``/bench/bare/``, the reference view the page benchmarks compare against, and ``/bench/empty/``."""

from django.urls import path

from config.urls import handler404  # noqa: F401
from config.urls import urlpatterns as site_urlpatterns
from tests.bench.benchmarks import bare_view, empty_page_view

urlpatterns = [
    path("bench/bare/", bare_view, name="bench-bare"),
    path("bench/empty/", empty_page_view, name="bench-empty"),
    *site_urlpatterns,
]
