from django.core.management.base import BaseCommand

from archive.collection import load_seed_collection


class Command(BaseCommand):
    help = "Load the seed collection from fixtures/seed/. Safe to run again: it adds only what is missing."

    def handle(self, *args, **options):
        recorded = load_seed_collection()
        if recorded:
            self.stdout.write(self.style.SUCCESS(f"Seed collection: recorded {recorded} revisions."))
        else:
            self.stdout.write("Seed collection: already loaded, nothing to do.")
