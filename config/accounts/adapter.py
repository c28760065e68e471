"""
The site's allauth adapter: usernames go through ``config.accounts.usernames``, and
failed logins are counted per account, not per string typed.

allauth counts failed logins (``login_failed``: 5 per key in 5 minutes, 10 a
minute per address) under a key built from the identifier as typed and the
request's host: ``ada`` and ``ada@example.org`` (or ``ADA``, ``ａｄａ``, or the
same name on ``Host: 127.0.0.1:1``) each got their own allowance. The key here
is the account the identifier names, so every way of naming it shares one
lockout. The token endpoint authenticates through this adapter too
(``config.accounts.tokens.token_credentials_check``): one rule for both doors.
"""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.utils import filter_users_by_email, filter_users_by_username

from .usernames import username_clean, username_normalise


def login_attempts_key(login):
    """The key failed logins are counted under: the account's id, or the normalised name if none matches."""
    login = username_normalise(login).strip()
    users = filter_users_by_email(login, prefer_verified=True) if "@" in login else []
    if not users:
        users = list(filter_users_by_username(login)[:2])
    if len(users) == 1:
        return f"account:{users[0].pk}"
    return f"login:{login.casefold()}"


class AccountAdapter(DefaultAccountAdapter):
    def clean_username(self, username, shallow=False):
        username = super().clean_username(username_normalise(username), shallow=shallow)
        if shallow:
            return username
        return username_clean(username)

    def _get_login_attempts_cache_key(self, request, **credentials):
        # Also used to clear the count after a password reset: the same key, so that clears it too.
        return login_attempts_key(credentials.get("email", credentials.get("username", "")))
