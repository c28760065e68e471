"""``{% critique_change critique %}``: a pending change to a critique beside the version it would replace."""

from django import template

from annotations.critiques.versions import critique_change as compare

register = template.Library()


@register.inclusion_tag("annotations/_critique_change.html")
def critique_change(critique):
    """The comparison of ``annotations.critiques.versions.critique_change``: three queries, whatever the critique."""
    return compare(critique)
