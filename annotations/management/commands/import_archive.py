"""``manage.py import_archive FILE``: check, then restore, a signed ``export_archive`` dump into an empty database."""

import shutil
import sys
import tempfile

from django.core.management.base import BaseCommand, CommandError

from annotations.export import DumpError, import_archive


class Command(BaseCommand):
    stealth_options = ("stdin",)
    help = (
        "Restore a dump written by export_archive into a new, migrated, empty database: its signature "
        "(APPARATUS_ARCHIVE_KEY) and contents checked first; same ids, numbers and times; all or nothing. "
        "Accounts get unusable passwords; staff and superuser flags are reported, never restored."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The dump (- for standard input).")

    def handle(self, *args, file, **options):
        try:
            if file == "-":
                # Read twice (checked, then restored): standard input is kept in a temporary file.
                with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as dump:
                    shutil.copyfileobj(options.get("stdin") or sys.stdin, dump)
                    dump.seek(0)
                    imported = import_archive(dump)
            else:
                with open(file, encoding="utf-8", newline="") as dump:
                    imported = import_archive(dump)
        except OSError as error:
            raise CommandError(f"Can't read {file}: {error.strerror}.") from None
        except UnicodeError:
            raise CommandError(f"{file} is not UTF-8 text: not a dump.") from None
        except DumpError as error:
            raise CommandError(f"Nothing imported. {error}") from None
        summary = ", ".join(f"{count} {kind}s" for kind, count in imported.counts.items())
        self.stderr.write(f"Imported {summary or 'nothing'}.")
        if imported.privileges:
            accounts = ", ".join(f"{name} ({' and '.join(flags)})" for name, flags in imported.privileges.items())
            self.stderr.write(
                f"Not restored: the staff or superuser flags of {accounts}. A dump never makes an "
                "administrator: create one with `manage.py createsuperuser`, then grant the flags again in "
                "the admin (Users)."
            )
