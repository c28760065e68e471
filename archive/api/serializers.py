"""
The archive API's serializers: documents, revisions and diffs as JSON, and
what recording a revision accepts.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from archive.models import Document, Revision
from archive.services import MAX_SUMMARY_LENGTH, clean_revision_text
from config.api import InputSerializer

# Revision numbers are 32-bit in the database: a larger one can't exist.
MAX_REVISION_NUMBER = 2**31 - 1


# The generated schema says oneOf(URI, empty string), and "" fits both when
# formats aren't checked: anyOf is what the field means.
@extend_schema_field({"anyOf": [{"type": "string", "format": "uri"}, {"type": "string", "maxLength": 0}]})
class OptionalURLField(serializers.CharField):
    pass


class SlugIdentityField(serializers.HyperlinkedIdentityField):
    """
    An object's address by its slug, reversed once per response and not once
    per object: a list of fifty otherwise spends more on reversing than on
    its query. Slugs are URL-safe as they are.
    """

    MARKER = "slug-to-fill-in"

    def get_url(self, obj, view_name, request, format):
        if format:
            return super().get_url(obj, view_name, request, format)
        if getattr(self, "_address_for", None) is not request:
            self._address_for = request
            self._address = self.reverse(view_name, kwargs={self.lookup_url_kwarg: self.MARKER}, request=request)
        return self._address.replace(self.MARKER, getattr(obj, self.lookup_field))


class DocumentSerializer(serializers.ModelSerializer):
    original_url = OptionalURLField(read_only=True, help_text="The source's URL; empty when unknown.")
    current_revision = serializers.IntegerField(
        source="current_revision.number",
        read_only=True,
        allow_null=True,
        help_text="Number of the current revision.",
    )
    revision_count = serializers.IntegerField(read_only=True)
    url = SlugIdentityField(view_name="api-document-detail", lookup_field="slug")
    rank = serializers.FloatField(
        source="search_rank",
        read_only=True,
        default=None,
        allow_null=True,
        help_text="With q: how well the document matches (higher is better); otherwise null.",
    )
    snippet = serializers.CharField(
        read_only=True,
        default=None,
        allow_null=True,
        help_text="With q: HTML quoting the matching words in <mark>; otherwise null.",
    )

    class Meta:
        model = Document
        fields = [
            "slug",
            "title",
            "kind",
            "language",
            "author",
            "site",
            "original_url",
            "published",
            "captured",
            "current_revision",
            "revision_count",
            "url",
            "rank",
            "snippet",
        ]


class DocumentDetailSerializer(DocumentSerializer):
    revisions_url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    annotations_url = serializers.SerializerMethodField()

    class Meta(DocumentSerializer.Meta):
        fields = DocumentSerializer.Meta.fields + [
            "rights",
            "notes",
            "revisions_url",
            "html_url",
            "annotations_url",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_revisions_url(self, document):
        return reverse("api-revision-list", args=[document.slug], request=self.context["request"])

    @extend_schema_field(OpenApiTypes.URI)
    def get_html_url(self, document):
        return self.context["request"].build_absolute_uri(document.get_absolute_url())

    @extend_schema_field(OpenApiTypes.URI)
    def get_annotations_url(self, document):
        # The critiques app serves this path; the archive only knows the
        # address (fixed by the API's contract), not what lives there.
        detail = reverse("api-document-detail", args=[document.slug], request=self.context["request"])
        return detail + "annotations/"


class RevisionSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Username of the writer.",
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = Revision
        fields = ["number", "sha256", "length", "summary", "parent", "created", "created_by", "url"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, revision):
        # revision.document costs no query: revisions are read through document.revisions.
        args = [revision.document.slug, revision.number]
        return reverse("api-revision-detail", args=args, request=self.context["request"])


class RevisionDetailSerializer(RevisionSerializer):
    class Meta(RevisionSerializer.Meta):
        fields = RevisionSerializer.Meta.fields + ["text"]


class RevisionRecordedSerializer(RevisionDetailSerializer):
    recorded = serializers.BooleanField(
        read_only=True,
        help_text="False when the text was identical to the current revision: nothing was recorded "
        "and this is the current revision.",
    )

    class Meta(RevisionDetailSerializer.Meta):
        fields = ["recorded"] + RevisionDetailSerializer.Meta.fields


class RevisionCreateSerializer(InputSerializer):
    # The service's text rules run here too, so their errors name the field.
    text = serializers.CharField(trim_whitespace=False, help_text="The full new text; line ends become \\n.")
    summary = serializers.CharField(max_length=MAX_SUMMARY_LENGTH, help_text="What changed and why.")
    base_revision = serializers.IntegerField(
        min_value=0,
        max_value=MAX_REVISION_NUMBER,
        help_text="The number of the revision the text was written on, normally the current one.",
    )

    def validate_text(self, value):
        return clean_revision_text(value)


class DiffQuerySerializer(serializers.Serializer):
    def get_fields(self):
        # "from" is a Python keyword: the fields can't be class attributes.
        number = {"min_value": 1, "max_value": MAX_REVISION_NUMBER}
        return {"from": serializers.IntegerField(**number), "to": serializers.IntegerField(**number)}


# The diff's rows, described by hand: spectacular would name their "kind" enum
# after the field, colliding with Document's "kind"; nested inline, it stays put.
# A fold has no line numbers and no pieces.
DIFF_ROW_SCHEMA = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["equal", "insert", "delete", "change", "fold"]},
        "old_line": {"type": "integer", "nullable": True, "description": "Line number in the old text."},
        "new_line": {"type": "integer", "nullable": True, "description": "Line number in the new text."},
        "pieces": {
            "type": "array",
            "description": "The line's text, word by word; empty in a fold.",
            "items": {
                "type": "object",
                "properties": {
                    "op": {"type": "string", "enum": ["equal", "insert", "delete"]},
                    "text": {"type": "string"},
                },
                "required": ["op", "text"],
            },
        },
        "count": {"type": "integer", "description": "Lines the row stands for: 1, or the lines folded."},
    },
    "required": ["kind", "old_line", "new_line", "pieces", "count"],
}


@extend_schema_field({"type": "array", "items": DIFF_ROW_SCHEMA})
class DiffRowsField(serializers.ListField):
    pass


class DiffSerializer(serializers.Serializer):
    # For the schema only: the view answers diff_as_data() as it is.
    def get_fields(self):
        return {
            "from": serializers.IntegerField(),
            "to": serializers.IntegerField(),
            "insertions": serializers.IntegerField(help_text="Lines inserted."),
            "deletions": serializers.IntegerField(help_text="Lines deleted."),
            "rows": DiffRowsField(),
        }


def diff_as_data(old, new, diff):
    """The ``diff`` of two revisions as the plain data DiffSerializer describes."""
    rows = []
    for row in diff.rows:
        if row.kind == "fold":
            rows.append({"kind": "fold", "old_line": None, "new_line": None, "pieces": [], "count": row.count})
        else:
            rows.append(
                {
                    "kind": row.kind,
                    "old_line": row.old_number,
                    "new_line": row.new_number,
                    "pieces": [{"op": op, "text": text} for op, text in row.pieces],
                    "count": 1,
                }
            )
    return {
        "from": old.number,
        "to": new.number,
        "insertions": diff.insertions,
        "deletions": diff.deletions,
        "rows": rows,
    }
