"""
The archive's API URLs, included under /api/. Plain paths, not a router:
another app may register a subclass of DocumentViewSet for ``documents/``
and ``documents/<slug>/`` under the same names in a URLconf included first
(see archive.api.views).
"""
from django.urls import path

from archive.api import views as api

urlpatterns = [
    path("documents/", api.DocumentViewSet.as_view({"get": "list"}), name="api-document-list"),
    path(
        "documents/<slug:slug>/", api.DocumentViewSet.as_view({"get": "retrieve"}), name="api-document-detail"
    ),
    path(
        "documents/<slug:slug>/revisions/",
        api.RevisionViewSet.as_view({"get": "list", "post": "create"}),
        name="api-revision-list",
    ),
    path(
        "documents/<slug:slug>/revisions/<int:number>/",
        api.RevisionViewSet.as_view({"get": "retrieve"}),
        name="api-revision-detail",
    ),
    path("documents/<slug:slug>/diff/", api.RevisionDiffView.as_view(), name="api-revision-diff"),
]
