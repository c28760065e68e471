"""
The archive's complete, portable, signed dump; its check; and its restore.

``export_archive`` writes, ``verify_archive`` checks and ``import_archive``
reads back JSON Lines in format ``apparatus-archive`` version 3: one JSON
object a line, keys sorted, times in UTC ISO 8601 with microseconds.

    {"type": "header", "format": "apparatus-archive", "version": 3, "exported": …,
     "signature": "hmac-sha256", "key": <key fingerprint>}
    {"type": "user", …}        every account
    {"type": "document", …}    metadata, ``version``, ``former_slugs``; ``current_revision`` is a number
    {"type": "revision", …}    every revision: text, sha256, parent, summary, who, when
    {"type": "critique", …}    selectors and status, with its ``versions``,
                               ``anchors``, ``events`` and ``flags``; a reply has
                               ``parent`` (its critique's id, written before it),
                               no anchors and versions without a category
    {"type": "end", "counts": {…}, "signature": …}

The ``end`` line counts the records and holds the HMAC-SHA256, keyed with
``settings.ARCHIVE_KEY`` (``APPARATUS_ARCHIVE_KEY``), of every byte before it,
header included: without the key nobody can alter a dump, or make one, that
is accepted. The header names the key by a fingerprint (an HMAC of a fixed
text, which reveals nothing of the key), so a dump signed with another key
is told apart from an altered one. There is no unsigned mode: without a key
of 32 characters or more, nothing is exported or imported.

Accounts keep their ids, usernames, names, flags and group names; never a
password, and no email address unless ``with_emails`` is asked for. The dump
records the staff and superuser flags, but they are never restored: a dump
can't make an administrator, and the import reports whose flags it dropped.
Accounts come back with unusable passwords. Explanations come back rendered
again from their Markdown (``annotations.rendering``): the dump holds no HTML.
API tokens, sessions and the search indexes are not dumped: they are secrets
or are rebuilt. Each document's version continues from the dump's value, one
more for the restore itself, so cached pages move on (``archive.changes``).
A version 2 dump (the same, without versions) restores with every document
starting again from version 1.

Export reads one consistent snapshot and streams, so memory stays flat.
Import reads the dump twice: once to check it all (signature, format,
counts, every revision's SHA-256, every text against the archive's text rule,
``archive.text.invalid_text_reason``), then to restore it into an empty
database in one transaction, with the same ids, numbers and times, checking
every row as the site's own rules would: any error and nothing is written.
"""

import hashlib
import hmac
import json
from collections import Counter
from datetime import UTC, datetime
from typing import NamedTuple

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Prefetch

from archive.models import Document, FormerSlug, Revision
from archive.search import index_document
from archive.text import invalid_text_reason, text_sha256

from .models import Anchor, Category, Critique, CritiqueVersion, Flag, ModerationEvent
from .rendering import render_markdown
from .search import reindex_critique
from .services import clean_evidence
from .visibility import PUBLIC

FORMAT = "apparatus-archive"
VERSION = 3
# Version 2 is version 3 without the documents' versions.
READABLE_VERSIONS = (2, VERSION)
SIGNATURE = "hmac-sha256"
MIN_KEY_LENGTH = 32
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
PRIVILEGES = ("is_superuser", "is_staff")  # dumped, never restored
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
    "version",
]
VERSIONLESS_FIELDS = [name for name in DOCUMENT_FIELDS if name != "version"]  # a version 2 dump's
FORMER_SLUG_FIELDS = ["slug", "retired"]
REVISION_FIELDS = ["id", "number", "parent", "text", "sha256", "summary", "created"]
CRITIQUE_FIELDS = ["id", "exact", "prefix", "suffix", "start", "end", "status", "created", "modified"]
VERSION_FIELDS = ["id", "number", "category", "body", "evidence", "created"]
# A version's own passage (all empty: the critique's); older dumps have none.
VERSION_PASSAGE_FIELDS = ["passage_revision", "passage_start", "passage_end", "passage_exact"]
ANCHOR_FIELDS = ["id", "start", "end", "state", "score", "quote", "created"]
# Why a detached anchor has no place; older dumps have none ("").
ANCHOR_REASON_FIELD = "reason"
EVENT_FIELDS = ["id", "action", "from_status", "to_status", "reason", "created"]
FLAG_FIELDS = ["id", "reason", "created", "resolved"]
TIME_FIELDS = {"date_joined", "last_login", "created", "updated", "modified", "resolved", "retired"}
RECORD_TYPES = ("user", "document", "revision", "critique")
CRITIQUE_PARTS = ("versions", "anchors", "events", "flags")  # counted as version, anchor, event, flag


class DumpError(Exception):
    """The dump can't be made or restored: no key, altered, damaged, of another format, or the database isn't empty."""


class Verified(NamedTuple):
    """What ``verify_archive`` found in a dump that holds."""

    header: dict
    counts: dict


class Imported(NamedTuple):
    """What ``import_archive`` restored."""

    counts: dict
    privileges: dict  # username -> the flags the dump gave it and the import did not restore


# --- The key -------------------------------------------------------------------


def archive_key():
    key = settings.ARCHIVE_KEY or ""
    if len(key) < MIN_KEY_LENGTH:
        raise DumpError(
            f"Set APPARATUS_ARCHIVE_KEY to a secret of {MIN_KEY_LENGTH} characters or more: dumps are signed "
            "with it when exported and checked with it when verified or imported. Make one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` and keep it apart from the dumps."
        )
    return key.encode("utf-8")


def key_fingerprint(key):
    return hmac.new(key, b"apparatus-archive key fingerprint", hashlib.sha256).hexdigest()[:16]


# --- Checks common to both directions --------------------------------------------


def _invalid_text(value, path=""):
    """``(field, reason)`` for the first text in ``value`` the archive's text rule refuses, or None."""
    if isinstance(value, str):
        reason = invalid_text_reason(value)
        return (path, reason) if reason else None
    if isinstance(value, dict):
        items = ((f"{path}.{key}" if path else key, item) for key, item in value.items())
    elif isinstance(value, list):
        items = ((f"{path}[{index}]", item) for index, item in enumerate(value))
    else:
        return None
    for item_path, item in items:
        found = _invalid_text(item, item_path)
        if found:
            return found
    return None


def _record_name(kind, record):
    if kind == "user":
        return f"user {record.get('username')!r}"
    if kind == "document":
        return f"document {record.get('slug')!r}"
    if kind == "revision":
        return f"revision {record.get('number')!r} of document {record.get('document')!r}"
    return f"{kind} {record.get('id')!r}"


# --- Export --------------------------------------------------------------------


def _time(value):
    return value.astimezone(UTC).isoformat() if value is not None else None


def _fields(obj, names):
    values = {name: getattr(obj, name) for name in names}
    return {name: _time(value) if name in TIME_FIELDS else value for name, value in values.items()}


class _Writer:
    def __init__(self, out, key):
        self.out, self.mac, self.counts = out, hmac.new(key, digestmod=hashlib.sha256), Counter()

    def write(self, record_type, record, count=True):
        bad = _invalid_text(record)
        if bad:
            raise DumpError(
                f"{_record_name(record_type, record)}, field {bad[0]}: {bad[1]} Repair the stored text and "
                "export again."
            )
        line = json.dumps({"type": record_type, **record}, ensure_ascii=False, sort_keys=True) + "\n"
        self.mac.update(line.encode("utf-8"))
        if count:
            self.counts[record_type] += 1
        self.out.write(line)


def export_archive(out, *, with_emails=False):
    """Write the whole archive, signed, to the text stream ``out``; return the record counts."""
    key = archive_key()
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Every query below sees the same snapshot, whatever is written meanwhile.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return _export(out, key, with_emails)


def _export(out, key, with_emails):
    writer = _Writer(out, key)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "exported": _time(datetime.now(UTC)),
        "signature": SIGNATURE,
        "key": key_fingerprint(key),
    }
    writer.write("header", header, count=False)
    usernames = {}
    verified = set(EmailAddress.objects.filter(verified=True).values_list("user_id", "email")) if with_emails else ()
    users = get_user_model().objects.order_by("pk").prefetch_related("groups")
    for user in users.iterator(chunk_size=1000):
        usernames[user.pk] = user.get_username()
        record = _fields(user, USER_FIELDS)
        record["groups"] = sorted(group.name for group in user.groups.all())
        if with_emails:
            record["email"] = user.email
            record["email_verified"] = (user.pk, user.email) in verified
        writer.write("user", record)

    documents = Document.objects.select_related("current_revision").order_by("pk")
    documents = documents.prefetch_related(Prefetch("former_slugs", FormerSlug.objects.order_by("retired", "slug")))
    for document in documents.defer("current_revision__text").iterator(chunk_size=1000):
        record = _fields(document, DOCUMENT_FIELDS)
        record["current_revision"] = document.current_revision.number if document.current_revision_id else None
        record["former_slugs"] = [_fields(former, FORMER_SLUG_FIELDS) for former in document.former_slugs.all()]
        writer.write("document", record)

    for revision in Revision.objects.order_by("pk").iterator(chunk_size=REVISION_BATCH):
        record = _fields(revision, REVISION_FIELDS)
        record["document"] = revision.document_id
        record["created_by"] = usernames.get(revision.created_by_id)
        writer.write("revision", record)

    # Critiques and replies; a reply's id is always above its critique's, so its parent comes first.
    critiques = Critique.entries.order_by("pk").prefetch_related(
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
            parent=critique.parent_id,
            author=usernames[critique.author_id],
            version=numbers.get(critique.version_id),
            published_version=numbers.get(critique.published_version_id),
            versions=[
                {
                    **_fields(version, VERSION_FIELDS),
                    **{
                        name: getattr(version, name.replace("_revision", "_revision_id"))
                        for name in VERSION_PASSAGE_FIELDS
                    },
                }
                for version in critique.versions.all()
            ],
            anchors=[
                {
                    **_fields(anchor, ANCHOR_FIELDS),
                    ANCHOR_REASON_FIELD: anchor.reason,
                    "revision": anchor.revision_id,
                }
                for anchor in critique.anchors.all()
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
        for part in CRITIQUE_PARTS:
            writer.counts[part[:-1]] += len(record[part])
        writer.write("critique", record)

    counts = dict(sorted(writer.counts.items()))
    out.write(json.dumps({"type": "end", "counts": counts, "signature": writer.mac.hexdigest()}, sort_keys=True) + "\n")
    return counts


# --- Reading and checking ------------------------------------------------------------


class _Reader:
    """
    The records of a dump, in order, as ``(line number, type, record)``.

    Format errors stop the reading at once. What only a valid signature makes
    meaningful (a revision's SHA-256, a text the text rule refuses) is held
    back and raised after the signature is checked, so an altered dump is
    always reported as altered. The last record is yielded before the end
    line is checked: only a reader that runs to the end has a checked dump.
    """

    def __init__(self, lines, key):
        self.lines, self.key = iter(lines), key
        first = next(self.lines, "")
        if not first:
            raise DumpError("The dump is empty.")
        self.header = _parse_line(first, 1)
        self._check_header()
        self.mac = hmac.new(key, _line_bytes(first), hashlib.sha256)
        self.counts = Counter()
        self.problem = None

    def _check_header(self):
        header = self.header
        if header.get("type") != "header" or header.get("format") != FORMAT:
            raise DumpError(f"Not an {FORMAT} dump: the first line is not its header.")
        if header.get("version") == 1:
            raise DumpError(
                "Dump version 1 is not signed, and this Apparatus restores only signed dumps (version 2 and later): "
                "export the archive again with this version."
            )
        if header.get("version") not in READABLE_VERSIONS:
            raise DumpError(f"Dump version {header.get('version')!r}: this Apparatus reads versions 2 and {VERSION}.")
        if header.get("signature") != SIGNATURE:
            raise DumpError(f"The dump is not signed with {SIGNATURE}: it can't be trusted.")
        if header.get("key") != key_fingerprint(self.key):
            raise DumpError(
                f"The dump was signed with another key (fingerprint {header.get('key')!r}; the "
                f"APPARATUS_ARCHIVE_KEY set here has {key_fingerprint(self.key)!r}). Set the key it was "
                "exported with."
            )

    def __iter__(self):
        for number, line in enumerate(self.lines, start=2):
            record = _parse_line(line, number)
            kind = record.pop("type", None)
            if kind == "end":
                self._check_end(record, number)
                return
            self.mac.update(_line_bytes(line))
            if kind not in RECORD_TYPES:
                raise DumpError(f"Line {number}: unknown record type {kind!r}.")
            self.counts[kind] += 1
            if kind == "critique":
                for part in CRITIQUE_PARTS:
                    if not isinstance(record.get(part), list):
                        raise DumpError(f"Line {number}: critique {record.get('id')!r} has no list of {part}.")
                    self.counts[part[:-1]] += len(record[part])
            if self.problem is None:
                self.problem = self._content_problem(number, kind, record)
            yield number, kind, record
        raise DumpError("The dump ends without its end line: it is incomplete.")

    @staticmethod
    def _content_problem(number, kind, record):
        bad = _invalid_text(record)
        if bad:
            return f"Line {number}: {_record_name(kind, record)}, field {bad[0]}: {bad[1]}"
        if kind == "revision":
            text, sha256 = record.get("text"), record.get("sha256")
            if not isinstance(text, str) or text_sha256(text) != sha256:
                return f"Line {number}: {_record_name(kind, record)}: its text does not match its SHA-256."
        return None

    def _check_end(self, record, number):
        if next(self.lines, None) is not None:
            raise DumpError(f"Line {number + 1}: nothing may follow the end line.")
        signature = record.get("signature")
        if not isinstance(signature, str) or not hmac.compare_digest(signature, self.mac.hexdigest()):
            raise DumpError(
                "The dump's signature does not match its contents: it was altered or damaged after it was "
                "exported, and can't be trusted."
            )
        if record.get("counts") != dict(sorted(self.counts.items())):
            raise DumpError("The dump's counts do not match its records.")
        if self.problem:
            raise DumpError(self.problem)


def _line_bytes(line):
    # A lone surrogate can't be encoded; the text rule refuses it with its field named.
    return line.encode("utf-8", "surrogatepass")


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


def verify_archive(lines):
    """Check a dump without restoring it: its key, signature, format, counts, SHA-256s and texts."""
    reader = _Reader(lines, archive_key())
    for _record in reader:
        pass
    return Verified(reader.header, dict(sorted(reader.counts.items())))


# --- Import --------------------------------------------------------------------


def _parse_time(value):
    return datetime.fromisoformat(value) if value is not None else None


def _values(record, names):
    return {name: _parse_time(record[name]) if name in TIME_FIELDS else record[name] for name in names}


def _checked(obj, where, *, full=False, exclude=()):
    """``obj`` if its fields pass the model's own validation, else a DumpError naming ``where`` and the field."""
    try:
        if full:
            obj.full_clean(exclude=["current_revision"], validate_unique=False)
        else:
            # Foreign keys are checked by the database at commit, not one query each.
            relations = [field.name for field in obj._meta.concrete_fields if field.is_relation]
            obj.clean_fields(exclude=[*relations, *exclude])
    except ValidationError as error:
        problems = "; ".join(f"field {field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
        raise DumpError(f"{where}: {problems}") from None
    return obj


def database_is_empty():
    return not (get_user_model().objects.exists() or Document.objects.exists() or Critique.entries.exists())


class _Importer:
    """Takes records in dump order, checks references, and inserts in batches."""

    def __init__(self, format_version=VERSION):
        self.format_version = format_version
        self.users = {}  # username -> id
        self.privileges = {}  # username -> flags not restored
        self.documents = {}  # id -> current revision number
        self.revisions = {}  # (document id, number) -> id
        self.revision_ids = {}  # id -> document id
        self.critique_documents = {}  # id of a critique (not a reply) -> its document id
        self.pending = {
            model: [] for model in (FormerSlug, Revision, Critique, CritiqueVersion, Anchor, ModerationEvent, Flag)
        }
        self.document_times = {}

    def user_id(self, username, where):
        if username not in self.users:
            raise DumpError(f"{where} names the account {username!r}, which is not in the dump.")
        return self.users[username]

    def add_user(self, record, where):
        User = get_user_model()
        values = _values(record, USER_FIELDS)
        dropped = [flag.removeprefix("is_") for flag in PRIVILEGES if values.pop(flag)]
        user = User(**values, is_staff=False, is_superuser=False, email=record.get("email") or "")
        user.set_unusable_password()
        _checked(user, where).save(force_insert=True)
        self.users[user.get_username()] = user.pk
        if dropped:
            self.privileges[user.get_username()] = dropped
        groups = [Group.objects.get_or_create(name=name)[0] for name in record["groups"]]
        user.groups.add(*groups)
        if record.get("email_verified"):
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    def add_document(self, record, where):
        values = _values(record, DOCUMENT_FIELDS if self.format_version >= VERSION else VERSIONLESS_FIELDS)
        # bulk_create would stamp ``updated`` with now (auto_now): it is set again in finish().
        self.document_times[values["id"]] = values.pop("updated")
        Document.objects.bulk_create([_checked(Document(**values), where, full=True)])
        self.documents[values["id"]] = record["current_revision"]
        for former in record["former_slugs"]:
            self.pending[FormerSlug].append(
                _checked(FormerSlug(**_values(former, FORMER_SLUG_FIELDS), document_id=values["id"]), where)
            )

    def add_revision(self, record, where):
        if record["document"] not in self.documents:
            raise DumpError(f"{where}: the document is not in the dump.")
        created_by = record["created_by"] and self.user_id(record["created_by"], where)
        revision = Revision(
            **_values(record, REVISION_FIELDS),
            document_id=record["document"],
            length=len(record["text"]),
            created_by_id=created_by,
        )
        self.revisions[(record["document"], record["number"])] = revision.pk
        self.revision_ids[revision.pk] = record["document"]
        self.pending[Revision].append(_checked(revision, where))
        if len(self.pending[Revision]) >= REVISION_BATCH:
            self.flush()

    def add_critique(self, record, where):
        if self.revision_ids.get(record["revision"]) != record["document"]:
            raise DumpError(f"{where}: its revision is not a revision of its document in the dump.")
        versions = {version["number"]: version["id"] for version in record["versions"]}
        parent = record.get("parent")  # dumps written before replies have none
        if parent is not None:
            # One level, on a critique of the same document that came before it in the dump.
            if self.critique_documents.get(parent) != record["document"]:
                raise DumpError(
                    f"{where}: it replies to critique {parent!r}, not a critique of its document before it."
                )
            if record["anchors"]:
                raise DumpError(f"{where}: a reply has no anchors of its own.")
        else:
            self.critique_documents[record["id"]] = record["document"]

        def version_id(number):
            if number is not None and number not in versions:
                raise DumpError(f"{where} names version {number}, which it does not have.")
            return versions.get(number)

        critique = Critique(
            **_values(record, CRITIQUE_FIELDS),
            document_id=record["document"],
            revision_id=record["revision"],
            parent_id=parent,
            author_id=self.user_id(record["author"], where),
            version_id=version_id(record["version"]),
            published_version_id=version_id(record["published_version"]),
        )
        self.pending[Critique].append(_checked(critique, where))
        for version in record["versions"]:
            passage_revision = version.get("passage_revision")
            if passage_revision is not None and self.revision_ids.get(passage_revision) != record["document"]:
                raise DumpError(f"{where} has a version about a revision of another document, or none.")
            self.pending[CritiqueVersion].append(
                self.version(version, record["id"], f"{where}, version", reply=parent is not None)
            )
        for anchor in record["anchors"]:
            if self.revision_ids.get(anchor["revision"]) != record["document"]:
                raise DumpError(f"{where} has an anchor on a revision of another document, or none.")
            self.pending[Anchor].append(
                _checked(
                    Anchor(
                        **_values(anchor, ANCHOR_FIELDS),
                        reason=anchor.get(ANCHOR_REASON_FIELD) or "",
                        critique_id=record["id"],
                        revision_id=anchor["revision"],
                    ),
                    f"{where}, anchor",
                )
            )
        for event in record["events"]:
            event_row = ModerationEvent(
                **_values(event, EVENT_FIELDS),
                critique_id=record["id"],
                actor_id=self.user_id(event["actor"], where),
                version_id=version_id(event["version"]),
            )
            self.pending[ModerationEvent].append(_checked(event_row, f"{where}, event"))
        for flag in record["flags"]:
            flag_row = Flag(
                **_values(flag, FLAG_FIELDS), critique_id=record["id"], user_id=self.user_id(flag["user"], where)
            )
            self.pending[Flag].append(_checked(flag_row, f"{where}, flag"))
        if len(self.pending[Critique]) >= CRITIQUE_BATCH:
            self.flush()

    @staticmethod
    def version(record, critique_id, where, reply=False):
        """
        A wording as the site would have written it: a known category (none
        for a reply), valid evidence, HTML from the Markdown.
        """
        values = _values(record, VERSION_FIELDS)
        where = f"{where} {values['number']!r}"
        if reply and values["category"] != "":
            raise DumpError(f"{where}, field category: a reply has no category.")
        if not reply and values["category"] not in Category.values:
            raise DumpError(f"{where}, field category: {values['category']!r} is not a category.")
        _evidence, problems = clean_evidence(values["evidence"])
        if problems:
            raise DumpError(f"{where}, field evidence: {' '.join(problems)}")
        if not isinstance(values["body"], str):
            raise DumpError(f"{where}, field body: not text.")
        passage = {name: record.get(name) for name in VERSION_PASSAGE_FIELDS}
        passage["passage_exact"] = passage["passage_exact"] or ""
        placed = [passage[name] is not None for name in ("passage_revision", "passage_start", "passage_end")]
        positions = [passage["passage_start"], passage["passage_end"]]
        whole = all(placed) and all(type(value) is int for value in positions) and positions[1] > positions[0] >= 0
        if any(placed) and not whole:
            raise DumpError(f"{where}, field passage_revision: a passage needs its revision, start and end.")
        passage["passage_revision_id"] = passage.pop("passage_revision")
        # Never the dump's HTML: what readers get is rendered here, by the one sanitizing renderer.
        version = CritiqueVersion(
            **values, **passage, body_html=render_markdown(values["body"]), critique_id=critique_id
        )
        # An empty list is no evidence, not a blank; a reply's empty category was checked above.
        return _checked(version, where, exclude=["evidence", *(["category"] if reply else [])])

    def flush(self):
        # Foreign keys are checked at commit, so the order within a batch is free.
        for model, objects in self.pending.items():
            model.objects.bulk_create(objects)
            objects.clear()

    def finish(self):
        self.flush()
        for document_id, number in self.documents.items():
            # The restore is one more change of every document: pages cached before it move on.
            changes_made = {"updated": self.document_times[document_id], "version": F("version") + 1}
            if number is not None:
                if (document_id, number) not in self.revisions:
                    raise DumpError(f"Document {document_id}: its current revision {number} is not in the dump.")
                changes_made["current_revision_id"] = self.revisions[(document_id, number)]
            Document.objects.filter(pk=document_id).update(**changes_made)
        taken = FormerSlug.objects.filter(slug__in=Document.objects.values("slug")).values_list("slug", flat=True)
        if taken:
            raise DumpError(f"The former slug {taken[0]!r} is also a document's current slug.")
        # Rows came with their ids: move each id sequence past them (PostgreSQL).
        models = [
            get_user_model(),
            Document,
            FormerSlug,
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


def import_archive(source):
    """
    Check, then restore, a dump into an empty database. ``source`` is a text
    file open for reading that can be read twice (``seek``). Returns an
    ``Imported``; DumpError, with nothing written, if anything is wrong.
    """
    key = archive_key()
    verify_archive(source)  # the whole dump holds before a row is written
    source.seek(0)
    try:
        with transaction.atomic():
            if not database_is_empty():
                raise DumpError(
                    "The database is not empty: import_archive restores into a new, migrated database "
                    "without any account, document or critique."
                )
            return _import_records(_Reader(source, key))
    except IntegrityError as error:
        raise DumpError(f"The dump's records contradict each other: {error}") from None


def _import_records(reader):
    importer = _Importer(reader.header["version"])
    handlers = {
        "user": importer.add_user,
        "document": importer.add_document,
        "revision": importer.add_revision,
        "critique": importer.add_critique,
    }
    for number, kind, record in reader:
        where = f"Line {number}: {_record_name(kind, record)}"
        try:
            handlers[kind](record, where)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise DumpError(f"{where}: a missing or malformed field ({error}).") from None
    # The reader ran to the end: signature, counts and contents hold (the file can't have changed since).
    importer.finish()
    return Imported(dict(sorted(reader.counts.items())), importer.privileges)
