"""``manage.py export_archive [--output FILE] [--with-emails]``: the whole archive as a signed, versioned dump."""

import os
import sys

from django.core.management.base import BaseCommand, CommandError

from annotations.export import DumpError, archive_key, export_archive


class Command(BaseCommand):
    help = (
        "Write every document, revision, critique (with its versions, anchors, events and flags) and the "
        "accounts to a JSON Lines dump signed with APPARATUS_ARCHIVE_KEY (annotations.export). Never "
        "passwords; emails only with --with-emails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")
        parser.add_argument("--with-emails", action="store_true", help="Include the accounts' email addresses.")

    def handle(self, *args, output=None, with_emails=False, **options):
        try:
            archive_key()  # refused before any file is made
            if not output:
                export_archive(sys.stdout, with_emails=with_emails)
                return
            counts = self.export_to(output, with_emails)
        except DumpError as error:
            raise CommandError(f"Nothing exported. {error}") from None
        summary = ", ".join(f"{count} {kind}s" for kind, count in counts.items())
        self.stderr.write(f"Exported to {output}: {summary or 'nothing'}.")

    @staticmethod
    def export_to(output, with_emails):
        # Written beside the target and renamed at the end: never a half-written dump under its name.
        partial = f"{output}.partial"
        try:
            with open(partial, "w", encoding="utf-8", newline="\n") as out:
                counts = export_archive(out, with_emails=with_emails)
            os.replace(partial, output)
        finally:
            if os.path.exists(partial):
                os.remove(partial)
        return counts
