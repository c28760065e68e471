"""
API tokens (django-rest-knox): the database keeps only a SHA-512 digest of
each, so a copy of it opens no account. ``POST /api/auth/token/`` checks the
password through allauth (``token_credentials_check``), so wrong passwords
there count against the same per-account lockout as the site's login form,
and issues a new token (``token_issue``). Every token of an account is
revoked when its password changes or it is deactivated (``config.accounts.receivers``).
``TokenAuthentication`` reads a request's token in one query.
"""

from allauth.account.adapter import get_adapter
from django.core.exceptions import ValidationError
from django.utils import timezone
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.models import AuthToken

# An account holds at most this many tokens: asking for one more retires the oldest.
TOKENS_PER_ACCOUNT = 10


class LockedOut(Exception):
    """Too many failed logins for this account (or from this address): try again later."""


class TokenAuthentication(KnoxTokenAuthentication):
    """
    knox's, without its sweep of the account's other tokens on every request
    (one more query each time) for expired ones: tokens are issued without an
    expiry (``token_issue``), so there are none to sweep. A token that does
    carry one is still refused, and deleted, once it has passed.
    """

    def _cleanup_token(self, auth_token):
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


def token_credentials_check(request, login, password):
    """The account ``login`` (a username or an email address) and ``password`` open, or None."""
    try:
        return get_adapter(request).authenticate(request, username=login, password=password)
    except ValidationError as error:
        if error.code == "too_many_login_attempts":
            raise LockedOut(error.messages[0]) from error
        raise


def token_issue(user):
    """A new token for ``user``: the only time its value is known, so the caller must hand it over."""
    _, token = AuthToken.objects.create(user=user, expiry=None)
    retired = AuthToken.objects.filter(user=user).order_by("-created").values_list("pk", flat=True)[TOKENS_PER_ACCOUNT:]
    AuthToken.objects.filter(pk__in=list(retired)).delete()
    return token


def tokens_revoke(user):
    AuthToken.objects.filter(user=user).delete()
