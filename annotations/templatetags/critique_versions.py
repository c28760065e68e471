"""``{% critique_change critique %}``: a pending change to a critique beside the version it would replace."""

from django import template

register = template.Library()


@register.inclusion_tag("annotations/_critique_change.html")
def critique_change(critique):
    return {"critique": critique}
