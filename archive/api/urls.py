"""
The archive's API URLs for revisions and diffs, included under /api/.

The document list and detail (``documents/``, ``documents/<slug>/``, named
``api-document-list`` and ``api-document-detail``) are registered once by
whoever composes the API, with ``DocumentViewSet`` or a subclass of it (on
this site ``annotations.api.urls``, which adds ``has_critiques``; see
archive.api.views).
"""

from django.urls import path

from archive.api import views as api
from archive.memento import memento_headers

urlpatterns = [
    path(
        "documents/<slug:slug>/revisions/",
        api.RevisionViewSet.as_view({"get": "list", "post": "create"}),
        name="api-revision-list",
    ),
    path(
        "documents/<slug:slug>/revisions/<int:number>/",
        memento_headers("api-revision-detail")(api.RevisionViewSet.as_view({"get": "retrieve"})),
        name="api-revision-detail",
    ),
    path("documents/<slug:slug>/diff/", api.RevisionDiffView.as_view(), name="api-revision-diff"),
]
