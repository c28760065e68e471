"""URLs of the whole site: critiques and moderation, the archive's pages, accounts and the admin."""
from django.contrib import admin
from django.urls import include, path

from config.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # The annotated reading pages take precedence over the archive's plain ones.
    path("", include("annotations.urls")),
    path("", include("archive.urls")),
    path("api/", include("config.api_urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
]

handler404 = "config.api_views.page_not_found"
