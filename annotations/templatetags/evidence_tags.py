"""Template filters for a critique's evidence (templates/annotations/_evidence.html)."""

from django import template
from django.utils.safestring import mark_safe

from annotations import evidence

register = template.Library()


@register.filter
def evidence_html(items):
    """The citations as ``<ul class="evidence">``; every value in it is escaped by ``annotations.evidence``."""
    return mark_safe(evidence.evidence_html(items or []))  # noqa: S308 - built from escaped pieces
