"""The admin's user pages, with the site's username rule (``config.accounts.usernames``) on adding and renaming."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError

from .usernames import username_clean


class UsernameRule:
    """Refuse a name that looks like another account's; staff may give out reserved ones."""

    def clean_username(self):
        username = self.cleaned_data.get("username")
        if hasattr(super(), "clean_username"):
            username = super().clean_username()
        if username and username != self.instance.username:
            try:
                username = username_clean(username, exclude_pk=self.instance.pk, allow_reserved=True)
            except ValidationError as error:
                self.add_error("username", error)
        return username


class UserCreationWithRule(UsernameRule, AdminUserCreationForm):
    pass


class UserChangeWithRule(UsernameRule, UserChangeForm):
    pass


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(UserAdmin):
    add_form = UserCreationWithRule
    form = UserChangeWithRule
