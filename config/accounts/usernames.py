"""
What a username may be. Usernames are stored NFKC-normalised, are unique
without regard to case, and may not look like another account's name or a
reserved one: ``ѕcholar`` with a Cyrillic ``ѕ`` or a full-width ``ＡＤＭＩＮ`` is
refused. Sign-up and the admin's user forms apply the same rule
(``username_clean``).
"""

import unicodedata

from confusable_homoglyphs import confusables
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

# Names that speak for the site, whatever their case or look.
RESERVED_USERNAMES = frozenset(
    {
        "admin",
        "administrator",
        "apparatus",
        "archivist",
        "archivists",
        "moderator",
        "moderators",
        "root",
        "security",
        "staff",
        "support",
        "system",
        "webmaster",
    }
)


def username_normalise(username):
    return unicodedata.normalize("NFKC", username)


def username_skeleton(username):
    """
    What a name looks like: NFKC, case-folded, each non-Latin character that
    passes for a Latin one replaced by it. Two names with one skeleton are
    confusable.
    """
    folded = username_normalise(username).casefold()
    lookalikes = {}
    for found in confusables.is_confusable(folded, greedy=True, preferred_aliases=["latin", "common"]) or []:
        ascii_glyphs = [glyph["c"] for glyph in found["homoglyphs"] if glyph["c"].isascii()]
        if ascii_glyphs:
            lookalikes[found["character"]] = ascii_glyphs[0].casefold()
    return "".join(lookalikes.get(char, char) for char in folded)


RESERVED_SKELETONS = frozenset(username_skeleton(name) for name in RESERVED_USERNAMES)


def lookalike_exists(username, exclude_pk=None):
    """Whether another account's name has the same case-folded form or the same skeleton."""
    users = get_user_model()._default_manager.exclude(pk=exclude_pk)
    skeleton = username_skeleton(username)
    if users.filter(username__iexact=username).exists() or users.filter(username__iexact=skeleton).exists():
        return True
    # Names stored before this rule may hold non-ASCII look-alikes: compare their skeletons too
    # (they are few: an ASCII name's skeleton is itself, lower-cased, and iexact found it above).
    non_ascii = users.filter(username__regex=r"[^\x00-\x7f]").values_list("username", flat=True)
    return any(username_skeleton(other) == skeleton for other in non_ascii.iterator())


def username_clean(username, *, exclude_pk=None, allow_reserved=False):
    """The name to store (NFKC), or a ValidationError saying why it can't be had."""
    username = username_normalise(username)
    if not allow_reserved and username_skeleton(username) in RESERVED_SKELETONS:
        raise ValidationError("This username is reserved. Please choose another.", code="username_reserved")
    if lookalike_exists(username, exclude_pk=exclude_pk):
        raise ValidationError(
            "This username is taken, or looks too much like one that is. Please choose another.",
            code="username_taken",
        )
    return username
