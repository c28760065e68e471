from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from annotations.demo import load_demo_critiques


class Command(BaseCommand):
    help = "File the demo critiques and replies of the seed collection (needs the demo accounts). Development only."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Demo critiques are for local demonstrations: refusing with DEBUG off (use --force).")
        filed = load_demo_critiques()
        if any(filed):
            self.stdout.write(f"Demo critiques: filed {filed.critiques} critiques and {filed.replies} replies.")
        else:
            self.stdout.write("Demo critiques: already filed.")
