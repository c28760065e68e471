"""
The critiques' API addresses, included under /api/ before the archive's: the
document list and detail registered here (same names) add ``has_critiques``;
each document's W3C annotation container is served from ``annotations.w3c.views``.

Critique ids are matched as any text and looked up by DRF, so
``/api/annotations/x/`` answers the API's JSON 404, not Django's HTML page.
"""

from django.urls import path
from rest_framework.renderers import JSONRenderer

from annotations.api import views as api
from annotations.api.versions import CritiqueVersionsView
from annotations.w3c import representation as w3c
from annotations.w3c.views import AnnotationContainerView
from archive.api.citing import CITATION_RENDERERS, CitationNegotiation
from config.api import JSONParser

critiques = api.CritiqueViewSet.as_view({"get": "list", "post": "create"}, detail=False)
# One address, several representations: our JSON, the W3C Web Annotation (JSON-LD) and the
# citation (archive.api.citing); with several renderers DRF answers ``Vary: Accept``.
critique = api.CritiqueViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"},
    detail=True,
    renderer_classes=[JSONRenderer, w3c.AnnotationJSONLDRenderer, *CITATION_RENDERERS],
    parser_classes=[JSONParser, w3c.AnnotationJSONLDParser],
    content_negotiation_class=CitationNegotiation,
)

# The same critique at its W3C IRI, inside its document's container: JSON-LD unless JSON is asked for.
contained_annotation = api.ContainedAnnotationViewSet.as_view(
    {"get": "retrieve", "put": "update", "delete": "destroy"},
    detail=True,
    renderer_classes=[w3c.AnnotationJSONLDRenderer, JSONRenderer],
    parser_classes=[w3c.AnnotationJSONLDParser, JSONParser],
)


def critique_action(method, action):
    """One more thing done to a critique at its own address: no list filters or pages there."""
    return api.CritiqueViewSet.as_view({method: action}, detail=True, filter_backends=[], pagination_class=None)


urlpatterns = [
    path("annotations/", critiques, name="api-critique-list"),
    path("annotations/<str:pk>/", critique, name="api-critique-detail"),
    path("annotations/<str:pk>/decision/", critique_action("post", "decision"), name="api-critique-decision"),
    path("annotations/<str:pk>/flags/", critique_action("post", "flags"), name="api-critique-flags"),
    path(
        "annotations/<str:pk>/replies/",
        api.CritiqueViewSet.as_view({"get": "replies", "post": "reply"}, detail=True, filter_backends=[]),
        name="api-critique-replies",
    ),
    path("annotations/<str:pk>/events/", critique_action("get", "events"), name="api-critique-events"),
    path(
        "annotations/<str:pk>/versions/",
        CritiqueVersionsView.as_view({"get": "versions"}, detail=True, filter_backends=[], pagination_class=None),
        name="api-critique-versions",
    ),
    path("documents/", api.DocumentViewSet.as_view({"get": "list"}), name="api-document-list"),
    path("documents/<slug:slug>/", api.DocumentViewSet.as_view({"get": "retrieve"}), name="api-document-detail"),
    path("documents/<slug:slug>/annotations/", AnnotationContainerView.as_view(), name="api-annotation-container"),
    path("documents/<slug:slug>/annotations/<str:pk>/", contained_annotation, name="w3c-annotation"),
    path("moderation/queue/", api.ModerationQueueView.as_view(), name="api-moderation-queue"),
    path("me/notifications/", api.MyNotificationsView.as_view(), name="api-my-notifications"),
]
