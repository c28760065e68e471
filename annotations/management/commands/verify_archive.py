"""``manage.py verify_archive FILE``: check a signed dump (key, signature, format, counts) without importing it."""

import sys

from django.core.management.base import BaseCommand, CommandError

from annotations.export import DumpError, verify_archive


class Command(BaseCommand):
    stealth_options = ("stdin",)
    help = (
        "Check a dump written by export_archive without importing it: signed with APPARATUS_ARCHIVE_KEY, "
        "unaltered, of a format this version reads, complete, every revision's SHA-256 and every text valid. "
        "Exits 1 when it is not."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The dump (- for standard input).")

    def handle(self, *args, file, **options):
        try:
            if file == "-":
                verified = verify_archive(options.get("stdin") or sys.stdin)
            else:
                with open(file, encoding="utf-8", newline="") as dump:
                    verified = verify_archive(dump)
        except OSError as error:
            raise CommandError(f"Can't read {file}: {error.strerror}.") from None
        except UnicodeError:
            raise CommandError(f"{file} is not UTF-8 text: not a dump.") from None
        except DumpError as error:
            raise CommandError(f"{file} does not verify. {error}") from None
        header = verified.header
        summary = ", ".join(f"{count} {kind}s" for kind, count in verified.counts.items())
        self.stdout.write(
            f"{file}: {header['format']} version {header['version']}, exported {header['exported']}, "
            f"signed with the key {header['key']}: {summary or 'nothing'}. It verifies."
        )
