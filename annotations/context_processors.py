"""Template context shared by every page."""

from django.utils.functional import SimpleLazyObject

from .models import Notification
from .moderation.queue import waiting_counts
from .visibility import is_moderator


def moderation(request):
    """
    The header's counts, each worked out (one query) only if a template asks:
    ``is_moderator`` for the Moderation link, ``unread_notifications`` for
    the Inbox link, ``moderation_waiting`` (``waiting_counts``) for what waits
    for moderators. The header asks only for a logged-in user, so anonymous
    pages, the shared cached ones, run none of them.
    """
    user = request.user
    return {
        "is_moderator": SimpleLazyObject(lambda: is_moderator(user)),
        "unread_notifications": SimpleLazyObject(
            lambda: (
                Notification.objects.filter(recipient_id=user.pk, read__isnull=True).count()
                if user.is_authenticated
                else 0
            )
        ),
        "moderation_waiting": SimpleLazyObject(lambda: waiting_counts() if is_moderator(user) else {}),
    }
