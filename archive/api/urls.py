"""
The archive's API URLs for revisions and diffs, included under /api/.

The document list and detail (``documents/``, ``documents/<slug>/``, named
``api-document-list`` and ``api-document-detail``) are registered once by
whoever composes the API, with ``DocumentViewSet`` or a subclass of it (on
this site ``annotations.api.urls``, which adds ``has_critiques``; see
archive.api.views).
"""

from django.urls import path
from rest_framework.renderers import JSONRenderer

from archive.api import views as api
from archive.api.citing import CITATION_RENDERERS, CitationNegotiation
from archive.memento import memento_headers

urlpatterns = [
    path(
        "documents/<slug:slug>/revisions/",
        api.RevisionViewSet.as_view({"get": "list", "post": "create"}),
        name="api-revision-list",
    ),
    path(
        "documents/<slug:slug>/revisions/<int:number>/",
        # Its JSON, or its citation (archive.api.citing); a memento of the document (archive.memento).
        memento_headers("api-revision-detail")(
            api.RevisionViewSet.as_view(
                {"get": "retrieve"},
                renderer_classes=[JSONRenderer, *CITATION_RENDERERS],
                content_negotiation_class=CitationNegotiation,
            )
        ),
        name="api-revision-detail",
    ),
    path("documents/<slug:slug>/diff/", api.RevisionDiffView.as_view(), name="api-revision-diff"),
]
