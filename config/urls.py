"""URLs of the whole site: the archive's pages and the admin."""
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("archive.urls")),
    path("admin/", admin.site.urls),
]
