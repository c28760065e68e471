"""
URLs of the whole site: critiques and moderation, the archive's pages,
accounts and the admin. Each address has one owner.

A document's reading pages show its text with the critiques beside it, so
the annotations app renders them; they are named here, without a namespace,
as ``document`` and ``revision``, which is what the archive's permalinks
(``Document.get_absolute_url``, ``Revision.get_absolute_url``) reverse.
"""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from annotations.reading.views import reading_current, reading_revision
from config.health import healthz, readyz
from config.metrics import metrics

# The admin's login is the site's (allauth): its rate limits, lockout and two-factor step apply there too.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),  # not public: config.metrics
    path("documents/<slug:slug>/", reading_current, name="document"),
    path("documents/<slug:slug>/revisions/<int:number>/", reading_revision, name="revision"),
    path("", include("config.discovery")),  # feeds, sitemap, robots.txt
    path("", include("annotations.urls")),
    path("", include("archive.urls")),
    path("api/", include("config.api_urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
]

handler404 = "config.api_views.page_not_found"
handler500 = "config.api_views.server_error"
