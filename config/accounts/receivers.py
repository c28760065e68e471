"""
Revoke an account's API tokens when its password changes (site, admin, API,
``manage.py changepassword``, a reset) or it is deactivated: a token must not
outlive the password that earned it, nor the account's right to log in.

Every one of those goes through ``set_password`` (which leaves the new
password in ``_password`` until the save is done), ``set_unusable_password``
or ``is_active = False``. A hash upgraded at login (Django re-hashing the same
password with more iterations) is none of these and keeps the tokens.
"""

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from .tokens import tokens_revoke


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def revoke_tokens_with_the_password(sender, instance, created=False, update_fields=None, raw=False, **kwargs):
    if raw or created:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # e.g. last_login, saved on every login
    password_set = getattr(instance, "_password", None) is not None
    if password_set or not instance.has_usable_password() or not instance.is_active:
        tokens_revoke(instance)
