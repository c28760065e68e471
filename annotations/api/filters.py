"""
The critiques API's filters: category, status, document and author as the
caller may see them, the stable orderings cursors follow, and has_critiques
on the archive's document list.
"""

from django import forms
from django.db.models import Exists, F, FilteredRelation, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Substr
from django_filters import rest_framework as filters
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

from annotations.lifecycle import Status
from annotations.models import Category, Critique
from annotations.search import critiques_index
from annotations.visibility import shown_status_q, shown_wording_q, visible_critiques
from archive.api import filters as archive_filters
from archive.api.serializers import MAX_REVISION_NUMBER
from archive.models import Revision

# --- Filters -----------------------------------------------------------------


class CritiqueFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        if data.get("revision") is not None and not data.get("document"):
            self.add_error("revision", "Give document too: revision numbers count per document.")
        return data


class CritiqueFilter(filters.FilterSet):
    document = filters.CharFilter(field_name="document__slug", help_text="A document's slug.")
    revision = filters.NumberFilter(
        method="filter_revision",
        help_text="Needs document: the critiques that exist on revision n (written on it or carried to it), "
        "each with its anchor there.",
    )
    category = filters.ChoiceFilter(choices=Category.choices, method="filter_category")
    status = filters.ChoiceFilter(choices=Status.choices, method="filter_status")
    author = filters.CharFilter(field_name="author__username", help_text="A username.")
    q = filters.CharFilter(
        method="filter_q",
        max_length=200,
        help_text="Words to find in published critiques (explanation, quoted passage, category).",
    )
    mine = filters.BooleanFilter(
        method="filter_mine",
        help_text="true: only your critiques (none when anonymous); false: only others'.",
    )

    class Meta:
        model = Critique
        fields = []
        form = CritiqueFilterForm

    def filter_revision(self, queryset, name, value):
        if not 1 <= value <= MAX_REVISION_NUMBER:
            raise ValidationError({"revision": ["This document has no revision with this number."]})
        revision = (
            Revision.objects.filter(
                document__slug=self.form.cleaned_data.get("document"),
                number=value,
            )
            .values_list("pk", "number")
            .first()
        )
        if revision is None:
            raise ValidationError({"revision": ["This document has no revision with this number."]})
        revision_id, number = revision
        placed = queryset.annotate(
            anchor_on=FilteredRelation("anchors", condition=Q(anchors__revision_id=revision_id)),
        ).filter(anchor_on__isnull=False)
        placed = placed.annotate(
            anchor_revision=Value(number, output_field=IntegerField()),
            anchor_start=F("anchor_on__start"),
            anchor_end=F("anchor_on__end"),
            anchor_state=F("anchor_on__state"),
            anchor_score=F("anchor_on__score"),
            anchor_reason=F("anchor_on__reason"),
        )
        # The passage as it reads on that revision, cut out in SQL (code points on both engines).
        passage = Revision.objects.filter(pk=revision_id).values(
            passage=Substr("text", OuterRef("anchor_start") + 1, OuterRef("anchor_end") - OuterRef("anchor_start")),
        )
        return placed.annotate(anchor_exact=Subquery(passage[:1]))

    def filter_q(self, queryset, name, value):
        return critiques_index.filter(queryset, value) if value.strip() else queryset

    def filter_category(self, queryset, name, value):
        return queryset.filter(shown_wording_q(self.request.user, "category", value))

    def filter_status(self, queryset, name, value):
        return queryset.filter(shown_status_q(self.request.user, value))

    def filter_mine(self, queryset, name, value):
        user = self.request.user
        if not user.is_authenticated:
            return queryset.none() if value else queryset
        return queryset.filter(author=user) if value else queryset.exclude(author=user)


class StableOrderingFilter(OrderingFilter):
    """
    An order the cursor can follow, ``created`` or ``-created``, then the id
    the same way, so pages never overlap. Anything else is a 400.
    """

    def get_ordering(self, request, queryset, view):
        requested = request.query_params.get(self.ordering_param)
        allowed = [prefix + field for field in view.ordering_fields for prefix in ("", "-")]
        if requested is not None and requested.strip() not in allowed:
            raise ValidationError({self.ordering_param: [f"Choose one of: {', '.join(allowed)}."]})
        first = super().get_ordering(request, queryset, view)[0]
        return [first, "-pk" if first.startswith("-") else "pk"]


class DocumentFilter(archive_filters.DocumentFilter):
    has_critiques = filters.BooleanFilter(
        method="filter_has_critiques",
        help_text="Whether the document has critiques you may see.",
    )

    def filter_has_critiques(self, queryset, name, value):
        visible = Exists(visible_critiques(self.request.user, Critique.objects.filter(document=OuterRef("pk"))))
        return queryset.filter(visible if value else ~visible)
