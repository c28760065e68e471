"""The accounts app: its receivers revoke API tokens when a password changes or an account is deactivated."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "config.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from config import checks  # noqa: F401 (the site's deploy checks; config itself is no app)

        from . import receivers  # noqa: F401
