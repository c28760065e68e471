"""
The archive's complete, portable dump, and its restore.

``export_archive`` writes, and ``import_archive`` reads back, JSON Lines in
format ``apparatus-archive`` version 1: one JSON object a line, keys sorted,
times in UTC ISO 8601 with microseconds.

    {"type": "header", "format": "apparatus-archive", "version": 1, "exported": …}
    {"type": "user", …}        every account a revision, critique, event or flag names
    {"type": "document", …}    metadata; ``current_revision`` is a number
    {"type": "revision", …}    every revision: text, sha256, parent, summary, who, when
    {"type": "critique", …}    selectors and status, with its ``versions``,
                               ``anchors``, ``events`` and ``flags``
    {"type": "end", "counts": {…}, "sha256": …}

The ``end`` line counts the records and holds the SHA-256 of every line
between the header and itself, so a truncated or altered dump is refused.
Two exports of the same data differ only in the header's ``exported`` time.

Accounts keep their ids, usernames, names, flags and group names; never a
password, and no email address unless ``with_emails`` is asked for. They come
back with unusable passwords (``manage.py changepassword`` or a password
reset sets a new one). API tokens, sessions, the search indexes and the change
counter are not dumped: they are secrets or are rebuilt.

Export reads one consistent snapshot and streams, so memory stays flat.
Import restores into an empty database in one transaction, with the same
ids, numbers and times, after checking every revision's SHA-256: any error
and nothing is written.
"""

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.color import no_style
from django.db import IntegrityError, connection, transaction
from django.db.models import Prefetch, Q

from archive.changes import note_public_change
from archive.models import Document, Revision
from archive.search import index_document
from archive.text import text_sha256

from .models import Anchor, Critique, CritiqueVersion, Flag, ModerationEvent
from .search import reindex_critique
from .visibility import PUBLIC

FORMAT = "apparatus-archive"
VERSION = 1
REVISION_BATCH = 50  # revisions can be megabytes each
CRITIQUE_BATCH = 500

USER_FIELDS = [
    "id",
    "username",
    "first_name",
    "last_name",
    "is_active",
    "is_staff",
    "is_superuser",
    "date_joined",
    "last_login",
]
DOCUMENT_FIELDS = [
    "id",
    "slug",
    "title",
    "kind",
    "language",
    "author",
    "site",
    "original_url",
    "published",
    "captured",
    "rights",
    "notes",
    "created",
    "updated",
]
REVISION_FIELDS = ["id", "number", "parent", "text", "sha256", "summary", "created"]
CRITIQUE_FIELDS = ["id", "exact", "prefix", "suffix", "start", "end", "status", "created", "modified"]
VERSION_FIELDS = ["id", "number", "category", "body", "body_html", "evidence", "created"]
ANCHOR_FIELDS = ["id", "start", "end", "state", "score", "quote", "created"]
EVENT_FIELDS = ["id", "action", "from_status", "to_status", "reason", "created"]
FLAG_FIELDS = ["id", "reason", "created", "resolved"]
TIME_FIELDS = {"date_joined", "last_login", "created", "updated", "modified", "resolved"}


class DumpError(Exception):
    """The dump can't be restored: damaged, of another format, or the database isn't empty."""


# --- Export --------------------------------------------------------------------


def _time(value):
    return value.astimezone(UTC).isoformat() if value is not None else None


def _fields(obj, names):
    values = {name: getattr(obj, name) for name in names}
    return {name: _time(value) if name in TIME_FIELDS else value for name, value in values.items()}


class _Writer:
    def __init__(self, out):
        self.out, self.hash, self.counts = out, hashlib.sha256(), Counter()

    def write(self, record_type, record, count=True):
        line = json.dumps({"type": record_type, **record}, ensure_ascii=False, sort_keys=True) + "\n"
        if count:
            self.hash.update(line.encode("utf-8"))
            self.counts[record_type] += 1
        self.out.write(line)


def referenced_users():
    """Every account the archive's records name."""
    User = get_user_model()
    return User.objects.filter(
        Q(pk__in=Revision.objects.values("created_by"))
        | Q(pk__in=Critique.objects.values("author"))
        | Q(pk__in=ModerationEvent.objects.values("actor"))
        | Q(pk__in=Flag.objects.values("user"))
    ).order_by("pk")


def export_archive(out, *, with_emails=False):
    """Write the whole archive to the text stream ``out``; return the record counts."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Every query below sees the same snapshot, whatever is written meanwhile.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return _export(out, with_emails)


def _export(out, with_emails):
    writer = _Writer(out)
    writer.write("header", {"format": FORMAT, "version": VERSION, "exported": _time(datetime.now(UTC))}, count=False)
    usernames = {}
    verified = set(EmailAddress.objects.filter(verified=True).values_list("user_id", "email")) if with_emails else ()
    for user in referenced_users().prefetch_related("groups").iterator(chunk_size=1000):
        usernames[user.pk] = user.get_username()
        record = _fields(user, USER_FIELDS)
        record["groups"] = sorted(group.name for group in user.groups.all())
        if with_emails:
            record["email"] = user.email
            record["email_verified"] = (user.pk, user.email) in verified
        writer.write("user", record)

    documents = Document.objects.select_related("current_revision").order_by("pk")
    for document in documents.defer("current_revision__text").iterator(chunk_size=1000):
        record = _fields(document, DOCUMENT_FIELDS)
        record["current_revision"] = document.current_revision.number if document.current_revision_id else None
        writer.write("document", record)

    for revision in Revision.objects.order_by("pk").iterator(chunk_size=REVISION_BATCH):
        record = _fields(revision, REVISION_FIELDS)
        record["document"] = revision.document_id
        record["created_by"] = usernames.get(revision.created_by_id)
        writer.write("revision", record)

    critiques = Critique.objects.order_by("pk").prefetch_related(
        Prefetch("versions", CritiqueVersion.objects.order_by("pk")),
        Prefetch("anchors", Anchor.objects.order_by("pk")),
        Prefetch("events", ModerationEvent.objects.order_by("pk")),
        Prefetch("flags", Flag.objects.order_by("pk")),
    )
    for critique in critiques.iterator(chunk_size=CRITIQUE_BATCH):
        numbers = {version.pk: version.number for version in critique.versions.all()}
        record = _fields(critique, CRITIQUE_FIELDS)
        record.update(
            document=critique.document_id,
            revision=critique.revision_id,
            author=usernames[critique.author_id],
            version=numbers.get(critique.version_id),
            published_version=numbers.get(critique.published_version_id),
            versions=[_fields(version, VERSION_FIELDS) for version in critique.versions.all()],
            anchors=[
                {**_fields(anchor, ANCHOR_FIELDS), "revision": anchor.revision_id} for anchor in critique.anchors.all()
            ],
            events=[
                {
                    **_fields(event, EVENT_FIELDS),
                    "actor": usernames[event.actor_id],
                    "version": numbers.get(event.version_id),
                }
                for event in critique.events.all()
            ],
            flags=[{**_fields(flag, FLAG_FIELDS), "user": usernames[flag.user_id]} for flag in critique.flags.all()],
        )
        for kind in ("versions", "anchors", "events", "flags"):
            writer.counts[kind[:-1]] += len(record[kind])
        writer.write("critique", record)

    counts = dict(sorted(writer.counts.items()))
    writer.write("end", {"counts": counts, "sha256": writer.hash.hexdigest()}, count=False)
    return counts


# --- Import --------------------------------------------------------------------


def _parse_time(value):
    return datetime.fromisoformat(value) if value is not None else None


def _values(record, names):
    return {name: _parse_time(record[name]) if name in TIME_FIELDS else record[name] for name in names}


def database_is_empty():
    return not (get_user_model().objects.exists() or Document.objects.exists() or Critique.objects.exists())


class _Importer:
    """Reads records in dump order, checks references, and inserts in batches."""

    def __init__(self):
        self.hash, self.counts = hashlib.sha256(), Counter()
        self.users = {}  # username -> id
        self.documents = {}  # id -> current revision number
        self.revisions = {}  # (document id, number) -> id
        self.revision_ids = {}  # id -> document id
        self.pending = {model: [] for model in (Revision, Critique, CritiqueVersion, Anchor, ModerationEvent, Flag)}
        self.document_times = {}

    def user_id(self, username, where):
        if username not in self.users:
            raise DumpError(f"{where} names the account {username!r}, which is not in the dump.")
        return self.users[username]

    def add_user(self, record):
        User = get_user_model()
        user = User(**_values(record, USER_FIELDS), email=record.get("email") or "")
        user.set_unusable_password()
        user.save(force_insert=True)
        self.users[user.get_username()] = user.pk
        groups = [Group.objects.get_or_create(name=name)[0] for name in record["groups"]]
        user.groups.add(*groups)
        if record.get("email_verified"):
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    def add_document(self, record):
        values = _values(record, DOCUMENT_FIELDS)
        # bulk_create would stamp ``updated`` with now (auto_now): it is set again in finish().
        self.document_times[values["id"]] = values.pop("updated")
        Document.objects.bulk_create([Document(**values)])
        self.documents[values["id"]] = record["current_revision"]

    def add_revision(self, record):
        where = f"Revision {record['number']} of document {record['document']}"
        if record["document"] not in self.documents:
            raise DumpError(f"{where}: the document is not in the dump.")
        if text_sha256(record["text"]) != record["sha256"]:
            raise DumpError(f"{where}: its text does not match its SHA-256; the dump is damaged.")
        created_by = record["created_by"] and self.user_id(record["created_by"], where)
        revision = Revision(
            **_values(record, REVISION_FIELDS),
            document_id=record["document"],
            length=len(record["text"]),
            created_by_id=created_by,
        )
        self.revisions[(record["document"], record["number"])] = revision.pk
        self.revision_ids[revision.pk] = record["document"]
        self.pending[Revision].append(revision)
        if len(self.pending[Revision]) >= REVISION_BATCH:
            self.flush()

    def add_critique(self, record):
        where = f"Critique {record['id']}"
        if self.revision_ids.get(record["revision"]) != record["document"]:
            raise DumpError(f"{where}: its revision is not a revision of its document in the dump.")
        versions = {version["number"]: version["id"] for version in record["versions"]}

        def version_id(number):
            if number is not None and number not in versions:
                raise DumpError(f"{where} names version {number}, which it does not have.")
            return versions.get(number)

        self.pending[Critique].append(
            Critique(
                **_values(record, CRITIQUE_FIELDS),
                document_id=record["document"],
                revision_id=record["revision"],
                author_id=self.user_id(record["author"], where),
                version_id=version_id(record["version"]),
                published_version_id=version_id(record["published_version"]),
            )
        )
        for version in record["versions"]:
            self.pending[CritiqueVersion].append(
                CritiqueVersion(**_values(version, VERSION_FIELDS), critique_id=record["id"])
            )
        for anchor in record["anchors"]:
            if self.revision_ids.get(anchor["revision"]) != record["document"]:
                raise DumpError(f"{where} has an anchor on a revision of another document, or none.")
            self.pending[Anchor].append(
                Anchor(**_values(anchor, ANCHOR_FIELDS), critique_id=record["id"], revision_id=anchor["revision"])
            )
        for event in record["events"]:
            self.pending[ModerationEvent].append(
                ModerationEvent(
                    **_values(event, EVENT_FIELDS),
                    critique_id=record["id"],
                    actor_id=self.user_id(event["actor"], where),
                    version_id=version_id(event["version"]),
                )
            )
        for flag in record["flags"]:
            self.pending[Flag].append(
                Flag(**_values(flag, FLAG_FIELDS), critique_id=record["id"], user_id=self.user_id(flag["user"], where))
            )
        for kind in ("versions", "anchors", "events", "flags"):
            self.counts[kind[:-1]] += len(record[kind])
        if len(self.pending[Critique]) >= CRITIQUE_BATCH:
            self.flush()

    def flush(self):
        # Foreign keys are checked at commit, so the order within a batch is free.
        for model, objects in self.pending.items():
            model.objects.bulk_create(objects)
            objects.clear()

    def finish(self):
        self.flush()
        for document_id, number in self.documents.items():
            changes = {"updated": self.document_times[document_id]}
            if number is not None:
                if (document_id, number) not in self.revisions:
                    raise DumpError(f"Document {document_id}: its current revision {number} is not in the dump.")
                changes["current_revision_id"] = self.revisions[(document_id, number)]
            Document.objects.filter(pk=document_id).update(**changes)
        # Rows came with their ids: move each id sequence past them (PostgreSQL).
        models = [
            get_user_model(),
            Document,
            Revision,
            Critique,
            CritiqueVersion,
            Anchor,
            ModerationEvent,
            Flag,
            EmailAddress,
        ]
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
        for document in Document.objects.select_related("current_revision").exclude(current_revision=None).iterator():
            index_document(document, document.current_revision.text)
        for critique_id in Critique.objects.filter(PUBLIC).values_list("pk", flat=True).iterator():
            reindex_critique(critique_id)
        note_public_change()


def import_archive(lines):
    """
    Restore a dump, given as an iterable of lines, into an empty database;
    return the record counts. DumpError, with nothing written, if anything
    is wrong.
    """
    lines = iter(lines)
    first = next(lines, "")
    if not first:
        raise DumpError("The dump is empty.")
    header = _parse_line(first, 1)
    if header.get("type") != "header" or header.get("format") != FORMAT:
        raise DumpError(f"Not an {FORMAT} dump: the first line is not its header.")
    if header.get("version") != VERSION:
        raise DumpError(f"Dump version {header.get('version')!r}: this Apparatus reads version {VERSION}.")
    try:
        with transaction.atomic():
            if not database_is_empty():
                raise DumpError(
                    "The database is not empty: import_archive restores into a new, migrated database "
                    "without any account, document or critique."
                )
            counts = _import_records(lines)
    except IntegrityError as error:
        raise DumpError(f"The dump's records contradict each other: {error}") from None
    return counts


def _import_records(lines):
    importer = _Importer()
    handlers = {
        "user": importer.add_user,
        "document": importer.add_document,
        "revision": importer.add_revision,
        "critique": importer.add_critique,
    }
    for number, line in enumerate(lines, start=2):
        record = _parse_line(line, number)
        kind = record.pop("type", None)
        if kind == "end":
            if next(lines, None) is not None:
                raise DumpError(f"Line {number + 1}: nothing may follow the end line.")
            if record.get("sha256") != importer.hash.hexdigest() or record.get("counts") != dict(
                sorted(importer.counts.items())
            ):
                raise DumpError("The dump's checksum or counts do not match its records: it is damaged.")
            importer.finish()
            return record["counts"]
        if kind not in handlers:
            raise DumpError(f"Line {number}: unknown record type {kind!r}.")
        importer.hash.update(line.encode("utf-8"))
        importer.counts[kind] += 1
        try:
            handlers[kind](record)
        except (KeyError, TypeError, ValueError) as error:
            raise DumpError(f"Line {number}: a {kind} record with a missing or malformed field ({error}).") from None
    raise DumpError("The dump ends without its end line: it is incomplete.")


def _parse_line(line, number):
    if not line.endswith("\n"):
        raise DumpError(f"Line {number} is cut off: the dump is incomplete.")
    try:
        record = json.loads(line)
    except ValueError:
        raise DumpError(f"Line {number} is not JSON.") from None
    if not isinstance(record, dict):
        raise DumpError(f"Line {number} is not a JSON object.")
    return record
