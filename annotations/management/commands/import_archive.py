"""``manage.py import_archive FILE``: restore an ``export_archive`` dump into an empty database."""

import sys

from django.core.management.base import BaseCommand, CommandError

from annotations.export import DumpError, import_archive


class Command(BaseCommand):
    stealth_options = ("stdin",)
    help = (
        "Restore a dump written by export_archive into a new, migrated, empty database: same ids, numbers "
        "and times; every revision's SHA-256 checked; all or nothing. Accounts get unusable passwords."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The dump (- for standard input).")

    def handle(self, *args, file, **options):
        try:
            if file == "-":
                counts = import_archive(options.get("stdin") or sys.stdin)
            else:
                with open(file, encoding="utf-8", newline="") as dump:
                    counts = import_archive(dump)
        except OSError as error:
            raise CommandError(f"Can't read {file}: {error.strerror}.") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file} is not UTF-8 text: not a dump.") from None
        except DumpError as error:
            raise CommandError(f"Nothing imported. {error}") from None
        summary = ", ".join(f"{count} {kind}s" for kind, count in counts.items())
        self.stderr.write(f"Imported {summary or 'nothing'}.")
