"""Template context shared by every page."""

from django.utils.functional import SimpleLazyObject

from .visibility import is_moderator


def moderation(request):
    """``is_moderator`` for the header's Moderation link, worked out only if a template asks."""
    return {"is_moderator": SimpleLazyObject(lambda: is_moderator(request.user))}
