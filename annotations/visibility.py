"""
The visibility rule, in one place. Every page, API view, search, count, feed
and export that shows critiques gets them from ``visible_critiques``:

- anyone sees published critiques (approved once, not hidden or withdrawn),
  in their published wording;
- an author also sees their own critiques in any state, as last written;
- moderators see everything.
"""
from django.db.models import Q

from .models import UNPUBLISHED_STATUSES, Critique

MODERATORS_GROUP = "Moderators"


def is_moderator(user):
    """Whether ``user`` moderates critiques; the answer is kept on the user for the request."""
    if not user.is_authenticated or not user.is_active:
        return False
    if not hasattr(user, "_is_moderator"):
        user._is_moderator = user.is_superuser or user.groups.filter(name=MODERATORS_GROUP).exists()
    return user._is_moderator


PUBLIC = Q(published_version__isnull=False) & ~Q(status__in=UNPUBLISHED_STATUSES)


def visible_critiques(user, queryset=None):
    """The critiques ``user`` may see."""
    queryset = Critique.objects.all() if queryset is None else queryset
    if is_moderator(user):
        return queryset
    if user.is_authenticated:
        return queryset.filter(PUBLIC | Q(author=user))
    return queryset.filter(PUBLIC)


def can_see(user, critique):
    return critique.is_public or is_moderator(user) or (user.is_authenticated and critique.author_id == user.pk)


def sees_latest_wording(user, critique):
    """Authors and moderators read the latest version; everyone else the published one."""
    return is_moderator(user) or (user.is_authenticated and critique.author_id == user.pk)


def shown_version(user, critique):
    if sees_latest_wording(user, critique):
        return critique.version
    return critique.published_version
