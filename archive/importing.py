"""
Importing documents from files: ``.txt``, ``.md`` and ``.html``/``.htm``
texts, each with a sidecar of metadata next to it (``NAME.toml`` or
``NAME.json``).

Files are read one at a time and written in batches of ``BATCH_SIZE``, one
transaction per batch: the batch's slugs are looked up at once, its new
documents are created together (``services.documents_create``), and each
file of a known document is written under its own savepoint. A bad file is
reported and leaves nothing behind, and the other files still import: a
file whose text or metadata is refused never reaches the database, and if
the batch's creation fails anyway (a listener refuses a revision, a slug
taken meanwhile), its new documents are created again one by one, each under
its own savepoint, so the error names its file. Memory stays flat on large
runs: at most two batches of texts are held, the one being written and the
next, read meanwhile.
"""

import datetime
import enum
import json
import os
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils.text import slugify

from .former_slugs import document_named, documents_named
from .html_text import reduce_html
from .models import Document
from .services import (
    METADATA_FIELDS,
    RevisionConflict,
    clean_revision_text,
    document_create,
    document_draft,
    document_update,
    documents_create,
)

TEXT_SUFFIXES = (".txt", ".md", ".html", ".htm")
HTML_SUFFIXES = (".html", ".htm")
SIDECAR_SUFFIXES = (".toml", ".json")
SIDECAR_FIELDS = METADATA_FIELDS + ("summary",)
DATE_FIELDS = ("published", "captured")
NUL = b"\x00"
# Files per transaction: enough that a commit and the slug lookups cost little per file, few enough
# that a batch's texts are a small, fixed amount of memory.
BATCH_SIZE = 100


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


class SourceFile(NamedTuple):
    """A file read and checked, ready to be written."""

    path: Path
    text: str
    summary: str
    metadata: dict  # document fields from the sidecar; the slug always set
    # The file as a new document (a DocumentDraft), or the FileResult of its refusal as one; checked
    # while reading, without the database, and used only if no document has the file's slug.
    draft: object = None

    @property
    def slug(self):
        return self.metadata["slug"]


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
    """
    Import every text under ``paths``, yielding a ``FileResult`` per file, in
    order, as each batch is committed (or, on a dry run, rolled back).

    The next batch is read from disk in a thread of its own while this one is
    written: reading and checking files is Python's work and writing is mostly
    the database's, so the two overlap. The reader never touches the database.
    """
    batches = source_batches(paths)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-reader") as reader:
        upcoming = reader.submit(next, batches, None)
        while (batch := upcoming.result()) is not None:
            upcoming = reader.submit(next, batches, None)
            yield from import_batch(batch, user=user, dry_run=dry_run)


def source_batches(paths):
    """
    The files under ``paths`` read, in lists of up to ``BATCH_SIZE``: a
    ``SourceFile`` each, or the ``FileResult`` of a file that can't be read.
    A slug named a second time starts a new batch, so that its file finds the
    document the first one made.
    """
    batch, slugs = [], set()
    for path in source_files(paths):
        item = failure(path, read_source_file, path)
        if isinstance(item, SourceFile):
            item = item._replace(draft=failure(path, draft_document, item))
            if item.slug in slugs:
                yield batch
                batch, slugs = [], set()
            slugs.add(item.slug)
        batch.append(item)
        if len(batch) == BATCH_SIZE:
            yield batch
            batch, slugs = [], set()
    if batch:
        yield batch


def import_batch(batch, *, user=None, dry_run=False):
    """Write a batch from ``source_batches`` in one transaction; a ``FileResult`` for each of its files, in order."""
    results = list(batch)  # a SourceFile's place takes its result
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Not waiting for each batch's commit to reach the disk speeds an import up.
            # A crash of the server may lose the last instant's files; importing again brings them in.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        files = {place: item for place, item in enumerate(batch) if isinstance(item, SourceFile)}
        # With their current revision's number, which a file for one of them writes on.
        documents = Document.objects.select_related("current_revision").defer("current_revision__text")
        known = documents_named(documents, [file.slug for file in files.values()])
        drafts = {}
        for place, file in files.items():
            if file.slug in known:
                results[place] = write_file(file, known[file.slug], user)
            elif isinstance(file.draft, FileResult):
                results[place] = file.draft
            else:
                drafts[place] = file.draft
        if drafts:
            try:
                documents_create(list(drafts.values()), user=user)
            except REFUSED:
                # Rolled back: each again on its own, to learn which file was refused.
                for place in drafts:
                    results[place] = write_file(files[place], None, user)
            else:
                for place in drafts:
                    results[place] = FileResult(files[place].path, Outcome.CREATED, "created revision 1")
        if dry_run:
            transaction.set_rollback(True)
    return results


# What a file's write may be refused with; anything else is a fault of the import, not of a file.
REFUSED = (ValidationError, RevisionConflict, IntegrityError)


def failure(path, action, *args):
    """
    ``action(*args)``'s value, or the ``FileResult`` of ``path`` failing with
    the reason it raised. Each write of an action is a savepoint of its own
    (``archive.services``), so a refused one has already been rolled back.
    """
    try:
        return action(*args)
    except ImportProblem as problem:
        return FileResult(path, Outcome.FAILED, str(problem))
    except ValidationError as error:
        return FileResult(path, Outcome.FAILED, validation_message(error))
    except (RevisionConflict, IntegrityError):
        # Someone else wrote this document while we read the file.
        return FileResult(path, Outcome.FAILED, "the document changed during the import; run it again")


def read_source_file(path):
    """The file at ``path`` read with its sidecar and checked, as a ``SourceFile``."""
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
    return SourceFile(path, text, summary, metadata)


def new_document_metadata(file):
    # A new document gets every field; those the sidecar leaves out are empty.
    return {field: file.metadata.get(field, "") for field in METADATA_FIELDS}


def draft_document(file):
    return document_draft(text=file.text, summary=file.summary, **new_document_metadata(file))


def write_file(file, document, user):
    """The ``FileResult`` of writing one file: a new document, or a file for ``document``, the one its slug names."""
    return failure(file.path, write_document_file, file, document, user)


def write_document_file(file, document, user):
    if document is None:
        # Looked up again: a document may have been made under this slug since the batch looked.
        document = document_named(Document.objects.all(), file.slug)
    if document is None:
        document_create(text=file.text, summary=file.summary, user=user, **new_document_metadata(file))
        return FileResult(file.path, Outcome.CREATED, "created revision 1")
    # A file naming a former slug doesn't undo the rename.
    metadata = {**file.metadata, "slug": document.slug}
    outcome, detail = record_document_file(document, file.text, file.summary, metadata, user)
    return FileResult(file.path, outcome, detail)


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
