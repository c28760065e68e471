from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

# Well-known passwords: for a local demonstration only, never in production.
DEMO_ACCOUNTS = [
    # username, password, groups, is_staff, is_superuser
    ("admin", "apparatus-admin", [], True, True),
    ("archivist", "apparatus-archivist", ["Archivists"], True, False),
    ("moderator", "apparatus-moderator", ["Moderators"], True, False),
    ("scholar", "apparatus-scholar", [], False, False),
    # A second scholar, who answers the first one's critiques, and a reader, who flags them.
    ("historian", "apparatus-historian", [], False, False),
    ("reader", "apparatus-reader", [], False, False),
]


class Command(BaseCommand):
    help = "Create the demo accounts (admin, archivist, moderator, scholar, historian, reader). Development only."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Demo accounts have public passwords: refusing with DEBUG off (use --force).")
        User = get_user_model()
        for username, password, groups, is_staff, is_superuser in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"email": f"{username}@example.org", "is_staff": is_staff, "is_superuser": is_superuser},
            )
            if created:
                user.set_password(password)
                user.save()
            user.groups.add(*Group.objects.filter(name__in=groups))
            # Verified up front: login requires a verified address.
            EmailAddress.objects.update_or_create(
                user=user, email=user.email, defaults={"verified": True, "primary": True}
            )
            self.stdout.write(f"{'Created' if created else 'Kept'} {username} (password {password})")
