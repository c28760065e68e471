"""
The document list's filters: kind, language, search, and an ordering the
pages can follow. Other apps extend ``DocumentFilter`` (see ``archive.api.views``).
"""

import django_filters

from archive.models import Document, DocumentKind
from archive.search import search_documents


class StableOrderingFilter(django_filters.OrderingFilter):
    """Ordering with the primary key as the last key, so equal values never shuffle across pages."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        return qs.order_by(*qs.query.order_by, "pk") if value else qs


class DocumentFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=DocumentKind.choices)
    language = django_filters.CharFilter(lookup_expr="iexact", help_text="A BCP 47 code: en, fr…")
    q = django_filters.CharFilter(method="filter_q", help_text="Search title, author and current text.")
    ordering = StableOrderingFilter(fields=["title", "published", "captured", "updated"])

    class Meta:
        model = Document
        fields = ["kind", "language", "q"]

    def filter_q(self, queryset, name, value):
        return search_documents(queryset, value)


# Views
