"""
``manage.py import_documents PATH…``: import texts with their metadata
sidecars as documents and revisions. The rules live in ``archive.importing``;
this command parses the arguments and reports.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from archive.importing import Outcome, import_documents

# Without -v 2, a line this often shows a long run is alive.
PROGRESS_EVERY = 100


class Command(BaseCommand):
    help = (
        "Import .txt, .md and .html files (directories are searched recursively) as documents. "
        "Each text needs a sidecar NAME.toml or NAME.json with its metadata. "
        "A changed text becomes a new revision; an unchanged one records nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="Files or directories to import.")
        parser.add_argument("--user", metavar="USERNAME", help="Attribute the revisions to this user.")
        parser.add_argument("--dry-run", action="store_true", help="Check and report everything, then write nothing.")

    def handle(self, *args, paths, user=None, dry_run=False, verbosity=1, **options):
        if user is not None:
            User = get_user_model()
            try:
                user = User.objects.get(**{User.USERNAME_FIELD: user})
            except User.DoesNotExist:
                raise CommandError(f"No user named {user!r}.") from None

        counts = dict.fromkeys(Outcome, 0)
        total = 0
        for result in import_documents(paths, user=user, dry_run=dry_run):
            total += 1
            counts[result.outcome] += 1
            if result.outcome is Outcome.FAILED:
                self.stderr.write(f"{result.path}: {result.detail}")
            elif verbosity >= 2:
                self.stdout.write(f"{result.path}: {result.detail}")
            if verbosity == 1 and total % PROGRESS_EVERY == 0:
                self.stdout.write(f"… {total} files done")

        if verbosity >= 1:
            self.stdout.write(
                f"Imported {total} files: {counts[Outcome.CREATED]} documents created, "
                f"{counts[Outcome.REVISED]} revisions recorded, {counts[Outcome.UNCHANGED]} unchanged, "
                f"{counts[Outcome.FAILED]} failed."
            )
            if dry_run:
                self.stdout.write("Dry run: nothing was written.")
        if counts[Outcome.FAILED]:
            raise CommandError(f"{counts[Outcome.FAILED]} of {total} files failed; see the messages above.")
