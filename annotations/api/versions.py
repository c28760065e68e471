"""
``GET /api/annotations/{id}/versions/``: a critique's versions as the caller
may open them, by the web pages' rule (``annotations.critiques.versions``):
readers the versions once published, the author and moderators every one.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from annotations.api.serializers import EvidenceListField
from annotations.api.views import CRITIQUE_ID, GONE, READ_ERRORS, CritiqueViewSet
from annotations.critiques.versions import published_numbers
from annotations.models import Category
from annotations.visibility import sees_latest_wording
from config.api import error_responses


class VersionPassageSerializer(serializers.Serializer):
    revision = serializers.IntegerField(help_text="The number of the revision the passage is on.")
    start = serializers.IntegerField(help_text="Offset in code points.")
    end = serializers.IntegerField()
    exact = serializers.CharField()


class VersionSerializer(serializers.Serializer):
    """One wording of a critique, with the passage it is about."""

    number = serializers.IntegerField()
    category = serializers.ChoiceField(choices=Category.choices, allow_blank=True, help_text="Empty for a reply.")
    body = serializers.CharField(help_text="Markdown.")
    body_html = serializers.CharField(help_text="Sanitized HTML.")
    evidence = EvidenceListField(read_only=True)
    passage = VersionPassageSerializer()
    created = serializers.DateTimeField()


class CritiqueVersionsView(CritiqueViewSet):
    @extend_schema(
        summary="The critique's versions you may open (readers: those once published)",
        parameters=[CRITIQUE_ID],
        responses={200: VersionSerializer(many=True), **error_responses(404, *READ_ERRORS), **GONE},
    )
    def versions(self, request, pk):
        critique = self.get_object()
        versions = critique.versions.select_related("passage_revision").order_by("number")
        if not sees_latest_wording(request.user, critique):
            versions = versions.filter(number__in=published_numbers(critique))
        rows = []
        for version in versions:
            revision = version.passage_revision or critique.revision
            version.critique = critique  # its passage defaults to the critique's own
            _, start, end, exact = version.passage
            rows.append(
                {
                    "number": version.number,
                    "category": version.category,
                    "body": version.body,
                    "body_html": version.body_html,
                    "evidence": version.evidence,
                    "passage": {"revision": revision.number, "start": start, "end": end, "exact": exact},
                    "created": version.created,
                }
            )
        return Response(VersionSerializer(rows, many=True).data)
