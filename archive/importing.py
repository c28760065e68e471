"""
Importing documents from files: ``.txt``, ``.md`` and ``.html``/``.htm``
texts, each with a sidecar of metadata next to it (``NAME.toml`` or
``NAME.json``).

Each file is imported on its own, in its own transaction: a bad file is
reported and leaves nothing behind, and the files after it still import.
Files are read one at a time, so memory stays flat on large runs.
"""

import datetime
import enum
import json
import os
import tomllib
from pathlib import Path
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils.text import slugify

from .former_slugs import document_named
from .html_text import reduce_html
from .models import Document
from .services import METADATA_FIELDS, RevisionConflict, clean_revision_text, document_create, document_update

TEXT_SUFFIXES = (".txt", ".md", ".html", ".htm")
HTML_SUFFIXES = (".html", ".htm")
SIDECAR_SUFFIXES = (".toml", ".json")
SIDECAR_FIELDS = METADATA_FIELDS + ("summary",)
DATE_FIELDS = ("published", "captured")
NUL = b"\x00"


class ImportProblem(Exception):
    """A file that can't be imported; the message says why, for the person who runs the import."""


class Outcome(enum.StrEnum):
    CREATED = "created"
    REVISED = "revised"
    UNCHANGED = "unchanged"
    FAILED = "failed"


class FileResult(NamedTuple):
    path: Path
    outcome: Outcome
    detail: str  # what happened, or why the file failed


def source_files(paths):
    """
    The files to import, in order. A directory yields its texts recursively,
    sorted; a file named on its own is yielded as given so that a wrong one
    is reported rather than silently skipped.
    """
    for path in map(Path, paths):
        if not path.is_dir():
            yield path
            continue
        # os.walk streams the tree, where a sorted rglob would list it all first.
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                if name.lower().endswith(TEXT_SUFFIXES):
                    yield Path(root, name)


def import_documents(paths, *, user=None, dry_run=False):
    """Import every text under ``paths``, yielding a ``FileResult`` per file as it is done."""
    for path in source_files(paths):
        try:
            outcome, detail = import_document_file(path, user=user, dry_run=dry_run)
        except ImportProblem as problem:
            yield FileResult(path, Outcome.FAILED, str(problem))
        except ValidationError as error:
            yield FileResult(path, Outcome.FAILED, validation_message(error))
        except (RevisionConflict, IntegrityError):
            # Someone else wrote this document while we read the file.
            yield FileResult(path, Outcome.FAILED, "the document changed during the import; run it again")
        else:
            yield FileResult(path, outcome, detail)


def import_document_file(path, *, user=None, dry_run=False):
    """Import one text file as a new document or a new revision. Returns ``(Outcome, detail)``."""
    if not path.is_file():
        raise ImportProblem("no such file")
    if not path.name.lower().endswith(TEXT_SUFFIXES):
        raise ImportProblem("not a .txt, .md, .html or .htm file")
    sidecar = read_sidecar(path)
    text = read_text(path)
    page_title = ""
    if path.name.lower().endswith(HTML_SUFFIXES):
        text, page_title = reduce_html(text)
    text = clean_revision_text(text)
    metadata = sidecar_metadata(sidecar, path, page_title)
    summary = sidecar.get("summary", "").strip() or f"Imported from {path.name}."

    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Not waiting for each file's commit to reach the disk doubles the pace of an import.
            # A crash of the server may lose the last instant's files; importing again brings them in.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        document = document_named(Document.objects.select_for_update(), metadata["slug"])
        if document is not None:
            metadata["slug"] = document.slug  # a file naming a former slug doesn't undo the rename
        if document is None:
            metadata = {field: metadata.get(field, "") for field in METADATA_FIELDS}
            document_create(text=text, summary=summary, user=user, **metadata)
            outcome, detail = Outcome.CREATED, "created revision 1"
        else:
            outcome, detail = record_document_file(document, text, summary, metadata, user)
        if dry_run:
            transaction.set_rollback(True)
    return outcome, detail


def record_document_file(document, text, summary, metadata, user):
    """A file for an existing document: a new revision if the text changed, and the changed metadata."""
    # Fields the sidecar leaves out keep their values: a short sidecar never wipes metadata.
    update = document_update(
        document,
        user=user,
        base_revision=document.revision_count,
        text=text,
        summary=summary,
        **metadata,
    )
    revision, changed = update.revision, update.changed
    updated = f"; updated {', '.join(changed)}" if changed else ""
    if revision is None:
        return Outcome.UNCHANGED, f"unchanged{updated}"
    return Outcome.REVISED, f"recorded revision {revision.number}{updated}"


def read_text(path):
    """The file's text, decoded as UTF-8 with any BOM removed, line ends as written."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ImportProblem(f"not valid UTF-8 (byte offset {error.start})") from None
    if "\x00" in text:
        raise ImportProblem(f"contains a NUL byte (byte offset {data.index(NUL)})")
    return text.removeprefix("\ufeff")


def read_sidecar(path):
    """The sidecar's fields as a dict, checked for unknown keys and wrong types."""
    found = [sidecar for sidecar in map(path.with_suffix, SIDECAR_SUFFIXES) if sidecar.is_file()]
    if not found:
        raise ImportProblem(f"no sidecar: add {path.stem}.toml or {path.stem}.json with title and kind")
    if len(found) > 1:
        raise ImportProblem(f"both {found[0].name} and {found[1].name} found; keep only one")
    sidecar = found[0]
    load = tomllib.load if sidecar.suffix == ".toml" else json.load
    try:
        with open(sidecar, "rb") as handle:
            fields = load(handle)
    except UnicodeDecodeError as error:
        raise ImportProblem(f"{sidecar.name} is not valid UTF-8 (byte offset {error.start})") from None
    except ValueError as error:  # TOMLDecodeError and JSONDecodeError both are
        raise ImportProblem(f"{sidecar.name} is malformed: {error}") from None
    if not isinstance(fields, dict):
        raise ImportProblem(f"{sidecar.name} must hold an object of fields, not {type(fields).__name__}")
    check_sidecar_fields(fields, sidecar.name)
    return fields


def check_sidecar_fields(fields, name):
    unknown = sorted(set(fields) - set(SIDECAR_FIELDS))
    if unknown:
        raise ImportProblem(f"{name} has unknown keys: {', '.join(unknown)} (known: {', '.join(SIDECAR_FIELDS)})")
    for field, value in fields.items():
        # TOML has a date type; a bare 1871-03-18 is as good as the string.
        if field in DATE_FIELDS and type(value) is datetime.date:
            fields[field] = value.isoformat()
        elif not isinstance(value, str):
            raise ImportProblem(f"{name}: {field} must be a string, not {type(value).__name__}")


def sidecar_metadata(sidecar, path, page_title=""):
    """Document fields from a checked sidecar; the slug and title filled in where they may be."""
    metadata = {field: sidecar[field].strip() for field in METADATA_FIELDS if field in sidecar}
    metadata["slug"] = metadata.get("slug") or slugify(path.stem)
    if not metadata.get("title"):
        if not page_title:
            raise ImportProblem(f"missing title: set title in the sidecar{title_hint(path)}")
        metadata["title"] = page_title
    return metadata


def title_hint(path):
    if path.name.lower().endswith(HTML_SUFFIXES):
        return " (the page has no <title> or <h1> to use)"
    return ""


def validation_message(error):
    """A ValidationError as one line: ``field: message; field: message``."""
    if hasattr(error, "error_dict"):
        return "; ".join(
            " ".join(messages) if field == "__all__" else f"{field}: {' '.join(messages)}"
            for field, messages in error.message_dict.items()
        )
    return " ".join(error.messages)
