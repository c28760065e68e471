"""
The rules for writing critiques: submitting, editing, withdrawing, moderator
decisions and flags. Each runs in one transaction, locks the critique it
changes and records an append-only ModerationEvent; views and API views only
parse input, call these and render.

Rows are locked ``FOR NO KEY UPDATE`` (``no_key=True``): writers of one row
still queue behind each other, but a transaction that only refers to the row
(PostgreSQL checks foreign keys at commit with ``FOR KEY SHARE``: anchors
carried onto a new revision, flags) is not blocked by it, so two writers can't
deadlock on a critique one locks and the other points at.
"""

import logging
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotations import lifecycle, notifications, tasks
from annotations.anchoring.selectors import SelectorError, quote_context, resolve_selector
from annotations.evidence import FIELD_LABELS, FIELDS, KINDS, REFERENCE, REFERENCE_ONLY, WEB, evidence_kind
from annotations.lifecycle import DECISIONS, Action, ModerationConflict, Status
from annotations.models import (
    CATEGORIES_NEEDING_EVIDENCE,
    Anchor,
    AnchorState,
    Category,
    Critique,
    CritiqueVersion,
    Flag,
    ModerationEvent,
)
from annotations.moderation import claims
from annotations.receivers import anchor_on_later_revisions
from annotations.rendering import render_markdown
from annotations.search import reindex_critique
from annotations.visibility import is_moderator, readers_view
from archive.changes import note_document_change
from archive.models import Document, Revision
from archive.text import invalid_text_reason

MAX_BODY_LENGTH = 10_000
MAX_EVIDENCE = 10
MAX_URL_LENGTH = 2000
MAX_TITLE_LENGTH = 300
MAX_NOTE_LENGTH = 1000
MAX_REASON_LENGTH = 2000
validate_http_url = URLValidator(schemes=["http", "https"])
# One JSON line per moderation decision (config.logging.JsonFormatter), for the audit trail outside the database.
moderation_log = logging.getLogger("apparatus.moderation")


class AlreadyDecided(ModerationConflict):
    def __init__(self, critique):
        super().__init__(
            critique,
            f"Critique {critique.pk} was already decided: it is now “{critique.get_status_display()}”.",
        )


class AlreadyFlagged(Exception):
    http_status = 409


def clean_critique_content(category, body, evidence, *, reply=False):
    """
    The category, Markdown body and evidence checked; ValidationError names
    each bad field. A reply (``reply``) has no category (stored as "") and
    needs no evidence; a critique must have a category.
    """
    errors = {}
    if reply:
        if category:
            errors["category"] = ["A reply has no category: leave it out."]
        category = ""
    elif category not in Category.values:
        errors["category"] = [f"Choose one of: {', '.join(Category.values)}."]
    body = body.strip() if isinstance(body, str) else ""
    if not body:
        errors["body"] = ["Write the reply." if reply else "Explain the critique."]
    elif len(body) > MAX_BODY_LENGTH:
        errors["body"] = [f"Keep the explanation under {MAX_BODY_LENGTH:,} characters (it has {len(body):,})."]
    elif reason := invalid_text_reason(body):
        errors["body"] = [reason]
    cleaned_evidence, evidence_errors = clean_evidence(evidence)
    if evidence_errors:
        errors["evidence"] = evidence_errors
    elif category in CATEGORIES_NEEDING_EVIDENCE and not cleaned_evidence:
        errors["evidence"] = [
            f"A critique of this kind ({Category(category).label.lower()}) needs at least one source."
        ]
    if errors:
        raise ValidationError(errors)
    return {"category": category, "body": body, "evidence": cleaned_evidence}


class EvidenceError(str):
    """A message about the evidence; ``source`` (the item's number) and ``field`` say where a form shows it."""

    def __new__(cls, message, source=None, field=None):
        error = super().__new__(cls, message)
        error.source, error.field = source, field
        return error


YEAR_RE = re.compile(r"(?:c\. ?)?\d{1,4}(?:[–-]\d{1,4})?[a-z]?|n\.d\.")
DOI_RE = re.compile(r"10\.\d{4,9}/\S+")
DOI_PREFIX_RE = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
ISBN_PREFIX_RE = re.compile(r"^ISBN(?:-1[03])?:?\s*", re.IGNORECASE)
REFERENCE_LIMITS = {
    "author": MAX_TITLE_LENGTH,
    "title": MAX_TITLE_LENGTH,
    "year": 20,
    "locator": 100,
    "doi": 300,
    "isbn": 40,
    "url": MAX_URL_LENGTH,
    "note": MAX_NOTE_LENGTH,
}
REFERENCE_REQUIRED = {
    "author": "give the author (or the editor, or “Anonymous”).",
    "title": "give the title of the book or article.",
    "year": "give the year of publication, e.g. 1871.",
    "locator": "give the page or chapter, e.g. “p. 214” or “ch. 7”.",
}


def isbn_checks(isbn):
    """Whether a compact ISBN (digits; a final X for ISBN-10) has a valid ISBN-10 or ISBN-13 check digit."""
    if re.fullmatch(r"\d{9}[\dX]", isbn):
        digits = [10 if char == "X" else int(char) for char in isbn]
        return sum((10 - position) * digit for position, digit in enumerate(digits)) % 11 == 0
    if re.fullmatch(r"97[89]\d{10}", isbn):
        return sum(int(char) * (3 if position % 2 else 1) for position, char in enumerate(isbn)) % 10 == 0
    return False


def _web_address_problem(url):
    try:
        if len(url) > MAX_URL_LENGTH:
            raise ValidationError("too long")
        validate_http_url(url)
    except ValidationError:
        return "give a web address starting with http:// or https://."
    return None


def _reference_value(field, value):
    """``(value as stored, problem or None)`` for one filled-in field of a reference."""
    if len(value) > REFERENCE_LIMITS[field]:
        return value, f"keep it under {REFERENCE_LIMITS[field]} characters."
    if field == "year" and not YEAR_RE.fullmatch(value):
        return value, "give the year as digits, e.g. 1871 (or 1871–1872, c. 1870, n.d.)."
    if field == "doi":
        value = DOI_PREFIX_RE.sub("", value)
        if not DOI_RE.fullmatch(value):
            return value, "give the DOI as 10.<number>/<suffix>, e.g. 10.1017/CBO9780511511219."
    if field == "isbn":
        value = ISBN_PREFIX_RE.sub("", value).replace("-", "").replace(" ", "").upper()
        if not re.fullmatch(r"\d{9}[\dX]|\d{13}", value):
            return value, "give an ISBN of 10 or 13 digits, e.g. 978-0-19-280430-3."
        if not isbn_checks(value):
            return value, "this ISBN's check digit does not match: look for a mistyped digit."
    if field == "url":
        return value, _web_address_problem(value)
    return value, None


def _evidence_item(number, item):
    """One citation cleaned (``None`` for an empty row) and the EvidenceErrors about it."""
    errors = []

    def problem(message, field=None):
        label = FIELD_LABELS.get(field, "")
        where = f"Source {number}, {label if label.isupper() else label.lower()}" if field else f"Source {number}"
        errors.append(EvidenceError(f"{where}: {message}", source=number, field=field))

    if not isinstance(item, dict):
        problem("give a web page {url, title, note} or a reference {kind, author, title, year, locator, …}.")
        return None, errors
    kind = evidence_kind(item)
    if kind not in KINDS:
        problem(f"the kind must be one of: {', '.join(KINDS)}.", "kind")
        return None, errors
    fields = FIELDS[kind]
    if unknown := sorted(str(key) for key in set(item) - set(fields) - {"kind"}):
        if kind == WEB and set(unknown) <= set(REFERENCE_ONLY):
            problem(f"a web page has no {', '.join(unknown)}: a book or article is cited as a reference.")
        else:
            problem(f"give only {', '.join(fields)} (not {', '.join(unknown)}).")
        return None, errors
    values = {}
    for field in fields:
        value = item.get(field)
        if field == "year" and type(value) is int:
            value = str(value)  # a year sent as a JSON number
        if value is None:
            value = ""
        if not isinstance(value, str):
            problem("must be text.", field)
        elif reason := invalid_text_reason(value):
            problem(reason, field)
        else:
            values[field] = value.strip()
    if errors or not any(values.values()):
        return None, errors  # an empty row of the form is dropped
    if kind == WEB:
        if message := _web_address_problem(values["url"]):
            problem(message, "url")
        if not values["title"]:
            problem("give the source's title.", "title")
        elif len(values["title"]) > MAX_TITLE_LENGTH:
            problem(f"keep the title under {MAX_TITLE_LENGTH} characters.", "title")
        if len(values["note"]) > MAX_NOTE_LENGTH:
            problem(f"keep the note under {MAX_NOTE_LENGTH} characters.", "note")
        return values, errors
    for field in fields:
        if not values[field]:
            if field in REFERENCE_REQUIRED:
                problem(REFERENCE_REQUIRED[field], field)
            continue
        values[field], message = _reference_value(field, values[field])
        if message:
            problem(message, field)
    return {"kind": REFERENCE, **values}, errors


def clean_evidence(evidence):
    """
    Evidence citations and a list of EvidenceErrors, each naming its source
    and field. A citation is a web page ``{url, title, note}`` (stored without
    ``kind``, as always) or a reference ``{kind: "reference", author, title,
    year, locator, doi, isbn, url, note}``: DOI and ISBN are stored in their
    plain forms (``10.…/…``; digits). See ``annotations.evidence``.
    """
    if evidence is None:
        return [], []
    if not isinstance(evidence, list):
        return [], [EvidenceError("Evidence must be a list of sources: web pages {url, title, note} or references.")]
    if len(evidence) > MAX_EVIDENCE:
        return [], [EvidenceError(f"Cite at most {MAX_EVIDENCE} sources.")]
    cleaned, errors = [], []
    for number, item in enumerate(evidence, start=1):
        citation, problems = _evidence_item(number, item)
        errors.extend(problems)
        if citation is not None and not problems:
            cleaned.append(citation)
    return cleaned, errors


def clean_reason(reason, *, required_message=None):
    """A moderator's or flagger's reason, stripped; ValidationError on ``reason`` when it won't do."""
    reason = reason.strip() if isinstance(reason, str) else ""
    if required_message and not reason:
        raise ValidationError({"reason": [required_message]})
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationError({"reason": [f"Keep the reason under {MAX_REASON_LENGTH} characters."]})
    if problem := invalid_text_reason(reason):
        raise ValidationError({"reason": [problem]})
    return reason


def clean_decision_reason(action, reason):
    """The reason for a decision: required to reject, request changes or hide."""
    required = f"Give a reason to {Action(action).replace('_', ' ')}." if lifecycle.reason_required(action) else None
    return clean_reason(reason, required_message=required)


def locate_passage(revision, exact, prefix="", suffix="", start=None, end=None):
    """
    The passage's ``(exact, start, end, prefix, suffix)`` on ``revision``, or a
    ValidationError on ``selector``. ``exact`` is the text's own characters,
    whatever spaces and quotation marks the quote was typed with.
    """
    try:
        start, end = resolve_selector(revision.text, exact, prefix or "", suffix or "", start, end)
    except SelectorError as error:
        raise ValidationError({"selector": [ValidationError(str(error), code=error.code)]}) from None
    prefix, suffix = quote_context(revision.text, start, end)
    return revision.text[start:end], start, end, prefix, suffix


def _write_version(critique, number, content, passage=None):
    """A new version; ``passage``: its ``passage_*`` fields (none: the critique's own passage)."""
    return CritiqueVersion.objects.create(
        critique=critique,
        number=number,
        category=content["category"],
        body=content["body"],
        body_html=render_markdown(content["body"]),
        evidence=content["evidence"],
        **(passage or {}),
    )


def _passage_of(version):
    """A version's ``passage_*`` fields, for the next version to keep: a re-selected passage stays proposed."""
    return {
        "passage_revision_id": version.passage_revision_id,
        "passage_start": version.passage_start,
        "passage_end": version.passage_end,
        "passage_exact": version.passage_exact,
    }


def _lock_current_revision(critique, revision, message):
    """
    Lock the document (so no revision is recorded meanwhile) and check that
    ``revision`` is still its current one. Callers lock the critique first, as
    ``critique_decide`` does before ``take_up_published_passage``: recording a
    revision holds the document but only refers to critiques (``FOR KEY
    SHARE``, which ``FOR NO KEY UPDATE`` allows), so no two writers deadlock.
    """
    document = Document.objects.select_for_update(no_key=True).only("current_revision").get(pk=critique.document_id)
    if document.current_revision_id != revision.pk:
        raise ModerationConflict(critique, message)


def _propose(locked, user, content, passage):
    """The author's change (wording, passage or both) as a new version: back to review; readers keep theirs."""
    if not locked.is_editable:
        raise ModerationConflict(locked, f"A critique that is “{locked.get_status_display()}” can't be edited.")
    version = _write_version(locked, locked.version.number + 1, content, passage)
    from_status, to_status = locked.status, lifecycle.MOVES[Action.EDIT].target
    _move(locked, from_status, version=version, status=to_status)
    _record(locked, user, Action.EDIT, from_status, to_status, version=version)
    return version


def _record(critique, actor, action, from_status, to_status, reason="", version=None):
    if critique.parent_id is None:  # replies are not in the search index (annotations.search)
        reindex_critique(critique.pk)
    return ModerationEvent.objects.create(
        critique=critique,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        version=version,
    )


def _move(critique, from_status, **changes):
    """Apply ``changes`` only if the critique is still in ``from_status``: one writer wins."""
    changes.setdefault("modified", timezone.now())
    seen_before = readers_view(critique)
    moved = Critique.entries.filter(pk=critique.pk, status=from_status).update(**changes)
    if not moved:
        critique.refresh_from_db()
        raise AlreadyDecided(critique)
    for field, value in changes.items():
        setattr(critique, field, value)
    if readers_view(critique) != seen_before:
        # Anonymous pages hang on their document's version: only what readers can see may move
        # it, or a submission or a pending edit would show in readers' ETags.
        note_document_change(critique.document_id)


def critique_submit(
    *,
    author,
    revision,
    category,
    body,
    evidence=None,
    exact,
    prefix="",
    suffix="",
    start=None,
    end=None,
    canonical="",
    via="",
    target_as_iri=False,
):
    """
    File a new critique of a passage of ``revision``; it waits for review.
    ``canonical``, ``via`` and ``target_as_iri``: how a Web Annotation client filed it.
    """
    content = clean_critique_content(category, body, evidence)
    exact, start, end, prefix, suffix = locate_passage(revision, exact, prefix, suffix, start, end)
    with transaction.atomic():
        # Queue behind revision_create (it locks the document too): a revision
        # recorded meanwhile would otherwise miss this critique's anchor.
        document = Document.objects.select_for_update(no_key=True).only("current_revision").get(pk=revision.document_id)
        critique = Critique.entries.create(
            document_id=revision.document_id,
            revision=revision,
            author=author,
            exact=exact,
            prefix=prefix,
            suffix=suffix,
            start=start,
            end=end,
            status=Status.PENDING,
            canonical=canonical,
            via=via,
            target_as_iri=target_as_iri,
        )
        version = _write_version(critique, 1, content)
        Critique.entries.filter(pk=critique.pk).update(version=version)
        critique.version = version
        _record(critique, author, Action.SUBMIT, "", Status.PENDING, version=version)
        Anchor.objects.create(
            critique=critique,
            revision=revision,
            start=start,
            end=end,
            state=AnchorState.EXACT,
            score=1.0,
        )
        if document.current_revision_id != revision.pk:
            anchor_on_later_revisions(critique)
    return critique


def reply_submit(*, author, parent, body, evidence=None):
    """
    Reply to a published critique; the reply waits for review like a
    critique. It copies the critique's document and passage (it is about that
    passage too) and has no anchors. Replies are one level deep: answering a
    reply is a ValidationError on ``parent``; answering a critique that is
    not published (or no longer) is a ModerationConflict (409).
    """
    content = clean_critique_content("", body, evidence, reply=True)
    with transaction.atomic():
        # Lock the critique: a hide or withdrawal decided meanwhile is seen here, not after.
        locked = Critique.entries.select_for_update(no_key=True).get(pk=parent.pk)
        if locked.is_reply:
            raise ValidationError({"parent": ["Replies are one level deep: reply to the critique itself."]})
        if not locked.is_public:
            raise ModerationConflict(locked, "Only a published critique can be replied to.")
        reply = Critique.entries.create(
            parent=locked,
            document_id=locked.document_id,
            revision_id=locked.revision_id,
            author=author,
            exact=locked.exact,
            prefix=locked.prefix,
            suffix=locked.suffix,
            start=locked.start,
            end=locked.end,
            status=Status.PENDING,
        )
        version = _write_version(reply, 1, content)
        Critique.entries.filter(pk=reply.pk).update(version=version)
        reply.version = version
        _record(reply, author, Action.SUBMIT, "", Status.PENDING, version=version)
    return reply


def critique_reattach(critique, *, user, revision, exact, start=None, end=None):
    """
    Place a critique that is detached on ``revision`` (the document's current
    one) on the passage selected again there.

    By its author, it is a change like any edit: a new version with the same
    wording and this passage, back to review; readers keep the critique where
    they see it (or in its detached listing) until a moderator approves, and
    only then does the placement take effect (``take_up_published_passage``).
    By a moderator (of someone else's critique), it takes effect at once: the
    moderator is the reviewer, and the REATTACH event records who placed it.
    """
    is_author = user.is_authenticated and critique.author_id == user.pk
    if not (is_author or is_moderator(user)):
        raise PermissionDenied("Only the critique's author or a moderator can re-attach it.")
    if critique.is_reply:
        raise ModerationConflict(critique, "A reply has no passage of its own: it follows its critique.")
    if revision.document_id != critique.document_id:
        raise ValidationError({"revision": ["That revision belongs to another document."]})
    exact, start, end, _, _ = locate_passage(revision, exact, start=start, end=end)
    with transaction.atomic():
        locked = (
            Critique.entries.select_for_update(of=("self",), no_key=True).select_related("version").get(pk=critique.pk)
        )
        _lock_current_revision(locked, revision, "A newer revision was recorded since: re-attach the critique there.")
        anchor = Anchor.objects.select_for_update().filter(critique=locked, revision=revision).first()
        if anchor is not None and anchor.state != AnchorState.DETACHED:
            raise ModerationConflict(locked, "This critique already has its place on this revision.")
        if is_author:
            latest = locked.version
            content = {"category": latest.category, "body": latest.body, "evidence": latest.evidence}
            passage = {"passage_revision": revision, "passage_start": start, "passage_end": end, "passage_exact": exact}
            _propose(locked, user, content, passage)
            return locked
        if anchor is None:
            anchor = Anchor(critique=locked, revision=revision)
        anchor.start, anchor.end, anchor.state, anchor.score = start, end, AnchorState.REATTACHED, 1.0
        anchor.reason = ""
        anchor.quote = "" if exact == locked.exact else exact
        anchor.save()
        if locked.is_public:
            note_document_change(locked.document_id)  # readers see the critique on its new passage
        _record(
            locked,
            user,
            Action.REATTACH,
            locked.status,
            locked.status,
            reason=f"Placed on revision {revision.number}, on “{exact}”.",
            version=locked.version,
        )
    return locked


def critique_edit(critique, *, user, category, body, evidence=None, passage=None):
    """
    The author rewrites a critique; it goes back to review, readers keep the approved wording.

    ``passage`` (``{revision, exact, prefix, suffix, start, end}``, selected
    again on the document's current revision) is proposed in the same
    version; without it the version keeps the passage of the one before.
    """
    if critique.author_id != user.pk:
        raise PermissionDenied("Only the author can edit a critique.")
    content = clean_critique_content(category, body, evidence, reply=critique.is_reply)
    located = None
    if passage is not None:
        revision = passage["revision"]
        if critique.is_reply:
            raise ValidationError({"selector": ["A reply is about its critique's passage: it has none of its own."]})
        if revision.document_id != critique.document_id:
            raise ValidationError({"selector": ["That passage is in another document."]})
        exact, start, end, _, _ = locate_passage(
            revision,
            passage.get("exact", ""),
            passage.get("prefix", ""),
            passage.get("suffix", ""),
            passage.get("start"),
            passage.get("end"),
        )
        located = {"passage_revision": revision, "passage_start": start, "passage_end": end, "passage_exact": exact}
    with transaction.atomic():
        locked = (
            Critique.entries.select_for_update(of=("self",), no_key=True).select_related("version").get(pk=critique.pk)
        )
        if located is not None:
            _lock_current_revision(
                locked,
                located["passage_revision"],
                "A newer revision of the document was recorded since you selected the passage: select it again.",
            )
        _propose(locked, user, content, located or _passage_of(locked.version))
    return locked


def critique_withdraw(critique, *, user):
    """The author takes a critique back. It is kept, marked withdrawn, and no longer public."""
    if critique.author_id != user.pk:
        raise PermissionDenied("Only the author can withdraw a critique.")
    with transaction.atomic():
        locked = Critique.entries.select_for_update(no_key=True).get(pk=critique.pk)
        if not locked.is_withdrawable:
            raise ModerationConflict(locked, f"A critique that is “{locked.get_status_display()}” can't be withdrawn.")
        from_status, to_status = locked.status, lifecycle.MOVES[Action.WITHDRAW].target
        _move(locked, from_status, status=to_status)
        _record(locked, user, Action.WITHDRAW, from_status, to_status, version=locked.version)
    return locked


def critique_decide(critique, *, moderator, action, reason="", expected_status=None):
    """
    A moderator's decision. ``expected_status`` is the status the moderator
    saw: if another decision came first, AlreadyDecided and nothing changes.
    """
    if not is_moderator(moderator):
        raise PermissionDenied("Only moderators decide on critiques.")
    if action not in DECISIONS:
        raise ValidationError({"action": [f"Choose one of: {', '.join(DECISIONS)}."]})
    if expected_status is not None and expected_status not in Status.values:
        raise ValidationError({"expected_status": [f"Choose one of: {', '.join(Status.values)}."]})
    reason = clean_decision_reason(action, reason)
    with transaction.atomic():
        locked = Critique.entries.select_for_update(no_key=True).get(pk=critique.pk)
        if locked.author_id == moderator.pk:
            raise PermissionDenied("You can't decide on your own critique; another moderator must.")
        if expected_status is not None and locked.status != expected_status:
            raise AlreadyDecided(locked)
        claims.check_free(locked, moderator)  # another moderator reviewing it: 409, naming them
        from_status = locked.status
        to_status = lifecycle.check_move(locked, action)
        move = lifecycle.MOVES[action]
        changes = {"status": to_status}
        previously_published = locked.published_version_id
        if move.publishes:
            changes["published_version_id"] = locked.version_id
        elif from_status in move.unpublishes_from:
            changes["published_version"] = None
        _move(locked, from_status, **changes)
        if move.publishes:
            take_up_published_passage(locked, previously_published)
        event = _record(locked, moderator, action, from_status, to_status, reason, version=locked.version)
        if move.resolves_flags:
            Flag.objects.filter(critique=locked, resolved__isnull=True).update(resolved=event.created)
        # The audit line and the inbox entries go with the decision, in its transaction; the emails wait
        # for the commit and run as tasks, so nothing after the commit can fail the request (or skip the line).
        log_decision(event, moderator)
        claims.release(locked)
        for notification in notifications.notify_decision(event):
            tasks.enqueue_with_commit(tasks.send_notification_email, notification.pk)
    return locked


def take_up_published_passage(critique, previously_published_id):
    """
    A version that proposes another passage than the one published before
    (or, never published, than the critique's own) places the critique there
    once it is published: its anchor on that revision becomes ``reattached``
    and the anchors of later revisions are carried from it again. Runs in the
    decision's transaction, with the critique locked; the document is locked
    too, so no revision is recorded meanwhile.
    """
    versions = {
        version.pk: version
        for version in CritiqueVersion.objects.filter(pk__in=[critique.published_version_id, previously_published_id])
    }
    for version in versions.values():
        version.critique = critique  # ``passage`` reads the critique's own passage from it
    published = versions[critique.published_version_id]
    if previously_published_id is None:
        before = (critique.revision_id, critique.start, critique.end, critique.exact)
    else:
        before = versions[previously_published_id].passage
    revision_id, start, end, exact = published.passage
    if (revision_id, start, end) == before[:3]:
        return
    Document.objects.select_for_update(no_key=True).only("pk").get(pk=critique.document_id)
    revision = Revision.objects.only("number", "document_id").get(pk=revision_id)
    own = (revision_id, start, end) == (critique.revision_id, critique.start, critique.end)
    Anchor.objects.update_or_create(
        critique=critique,
        revision=revision,
        defaults={
            "start": start,
            "end": end,
            "state": AnchorState.EXACT if own else AnchorState.REATTACHED,
            "score": 1.0,
            "reason": "",
            "quote": "" if exact == critique.exact else exact,
        },
    )
    Anchor.objects.filter(critique=critique, revision__number__gt=revision.number).delete()
    anchor_on_later_revisions(critique, since=revision)


def log_decision(event, moderator):
    """The structured log line of a decision, written in its transaction: no decision without its line."""
    moderation_log.info(
        "moderation decision",
        extra={
            "fields": {
                "event_id": event.pk,
                "critique_id": event.critique_id,
                "action": event.action,
                "from": event.from_status,
                "to": event.to_status,
                "actor": moderator.get_username(),
                "at": event.created.isoformat(),
            }
        },
    )


def critique_flag(critique, *, user, reason):
    """A registered reader reports a published critique, once."""
    reason = clean_reason(reason, required_message="Say what is wrong with this critique.")
    if critique.author_id == user.pk:
        raise PermissionDenied("You can't flag your own critique.")
    try:
        with transaction.atomic():
            # Read the status afresh: the page the reader flagged from may be stale.
            current = Critique.entries.select_for_update(no_key=True).get(pk=critique.pk)
            if not current.is_public:
                raise ModerationConflict(current, "Only published critiques can be flagged.")
            return Flag.objects.create(critique=current, user=user, reason=reason)
    except IntegrityError:
        raise AlreadyFlagged("You have already flagged this critique.") from None
