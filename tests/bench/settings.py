"""The site's settings plus the benchmarks: the ``bench`` command and a bare view to measure pages against."""

from config.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.bench"]  # noqa: F405
ROOT_URLCONF = "tests.bench.urls"
