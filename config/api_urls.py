"""
The API under /api/: the archive's endpoints and the critiques' (with the W3C
Web Annotation ones), token authentication, the OpenAPI schema and its docs.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import api_views

urlpatterns = [
    path("", api_views.api_root, name="api-root"),
    path("auth/token/", api_views.obtain_token, name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script from ?script, not inline: the CSP allows no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("annotations.api.urls")),
    path("", include("archive.api.urls")),
]
