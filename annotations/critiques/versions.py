"""
A critique's own revisions: which of its versions each viewer may open, the
reasons moderators gave (with the version each was given on), a pending
change set against the version it would replace (for the moderator who
reviews it and the author who wrote it), and the reading page's mode for
selecting a critique's passage again.

Readers may open the versions that were published and not then taken out of
view (``visibility.versions_readers_may_open``); the author and moderators
every version. Nothing here shows an
unpublished version's wording to anyone else.
"""

import json
from typing import NamedTuple

from django.db.models import Q, Subquery
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from annotations.evidence import evidence_html
from annotations.lifecycle import ACTIONS_NEEDING_REASON, REASONED_STATUSES, Action
from annotations.models import Category, Critique, CritiqueVersion, ModerationEvent
from annotations.visibility import sees_latest_wording, versions_readers_may_open
from archive.diffing import word_pieces
from archive.models import Revision
from archive.text import id_from

CONTEXT_CHARS = 80


def published_numbers(critique):
    """The numbers of the versions readers may open (``versions_readers_may_open``), in order: one query."""
    rows = list(
        ModerationEvent.objects.filter(critique=critique)
        .order_by("created", "pk")
        .values_list("action", "from_status", "version_id", "version__number")
    )
    may_open = versions_readers_may_open(row[:3] for row in rows)
    return sorted({number for _, _, version_id, number in rows if version_id in may_open})


def visible_versions(user, critique, events):
    """The versions ``user`` may open, oldest first, without their wording (``events``: the critique's): one query."""
    versions = critique.versions.only("critique_id", "number", "category", "created").order_by("number")
    if not sees_latest_wording(user, critique):
        may_open = versions_readers_may_open((event.action, event.from_status, event.version_id) for event in events)
        versions = versions.filter(pk__in=may_open)
    return list(versions)


def may_open_version(user, critique, number):
    """Whether ``user``, who may see ``critique``, may open its version ``number``."""
    return sees_latest_wording(user, critique) or number in published_numbers(critique)


class Reason(NamedTuple):
    action: str
    reason: str
    version_number: int | None
    created: object


def reasons_given(critique):
    """Every reasoned decision on ``critique`` (request changes, reject, hide), oldest first: one query."""
    events = ModerationEvent.objects.filter(critique=critique, action__in=ACTIONS_NEEDING_REASON).order_by(
        "created", "pk"
    )
    return [
        Reason(Action(action).label, reason, number, created)
        for action, reason, number, created in events.values_list("action", "reason", "version__number", "created")
    ]


def reasons_context(critique):
    """The edit page's ``reasons`` and ``latest_reason`` (the one standing: the critique is still in its status)."""
    reasons = reasons_given(critique)
    standing = reasons and critique.status in REASONED_STATUSES
    return {"reasons": reasons, "latest_reason": reasons[-1] if standing else None}


def note_pieces(old, new):
    """
    ``word_pieces`` read as a person would: a space alone between two changes
    joins them, so a rewritten phrase is one deletion and one insertion
    rather than word after word interleaved.
    """
    pieces = word_pieces(old, new)
    merged = []  # runs of (deleted, inserted) or ("equal", text)
    for index, (op, text) in enumerate(pieces):
        between_changes = 0 < index < len(pieces) - 1 and pieces[index + 1][0] != "equal"
        if op == "equal" and not (text.isspace() and between_changes and merged and merged[-1][0] == "change"):
            merged.append(("equal", text))
            continue
        if not merged or merged[-1][0] != "change":
            merged.append(("change", "", ""))
        _, deleted, inserted = merged[-1]
        merged[-1] = (
            "change",
            deleted + (text if op in ("delete", "equal") else ""),
            inserted + (text if op in ("insert", "equal") else ""),
        )
    result = []
    for run in merged:
        if run[0] == "equal":
            result.append(run)
            continue
        if run[1]:
            result.append(("delete", run[1]))
        if run[2]:
            result.append(("insert", run[2]))
    return result


def note_diff_html(old, new):
    """The Markdown source of two notes compared word by word: escaped, with <del> and <ins>."""
    html = []
    for op, text in note_pieces(old, new):
        if op == "equal":
            html.append(escape(text))
        else:
            tag = "ins" if op == "insert" else "del"
            html.append(f"<{tag}>{escape(text)}</{tag}>")
    return mark_safe("".join(html))  # noqa: S308 - every piece escaped above


def _evidence_key(item):
    return json.dumps(item, sort_keys=True, ensure_ascii=False)


def evidence_change(old, new):
    """The sources of ``new`` against ``old``: ``{added, removed, unchanged}``, each as a formatted list."""
    old_keys, new_keys = {_evidence_key(item) for item in old}, {_evidence_key(item) for item in new}
    added = [item for item in new if _evidence_key(item) not in old_keys]
    removed = [item for item in old if _evidence_key(item) not in new_keys]
    unchanged = [item for item in new if _evidence_key(item) in old_keys]
    return {
        "added": mark_safe(evidence_html(added)) if added else "",  # noqa: S308 - escaped by evidence_html
        "removed": mark_safe(evidence_html(removed)) if removed else "",  # noqa: S308
        "unchanged": mark_safe(evidence_html(unchanged)) if unchanged else "",  # noqa: S308
        "changed": bool(added or removed),
    }


class PassageInContext(NamedTuple):
    revision_number: int
    before: str
    exact: str
    after: str
    cut_before: bool
    cut_after: bool


def passage_in_context(revision, start, end):
    text = revision.text
    return PassageInContext(
        revision.number,
        text[max(0, start - CONTEXT_CHARS) : start],
        text[start:end],
        text[end : end + CONTEXT_CHARS],
        start > CONTEXT_CHARS,
        end + CONTEXT_CHARS < len(text),
    )


def _passage(critique, version):
    """``(revision_id, start, end)`` of the passage ``version`` is about."""
    if version.passage_revision_id is None:
        return critique.revision_id, critique.start, critique.end
    return version.passage_revision_id, version.passage_start, version.passage_end


def critique_change(critique):
    """
    The latest version of ``critique`` against the one it would replace: the
    version readers see, or (never published, or nothing pending) the one
    before. Category, note (word by word), evidence, passage (in context) and
    the reasons given so far. Three queries, whatever the critique.
    """
    previous_number = Subquery(CritiqueVersion.objects.filter(pk=critique.version_id).values("number")) - 1
    versions = {
        version.pk: version
        for version in CritiqueVersion.objects.filter(critique_id=critique.pk).filter(
            Q(pk=critique.version_id) | Q(pk=critique.published_version_id) | Q(number=previous_number)
        )
    }
    latest = versions[critique.version_id]
    if critique.published_version_id and critique.published_version_id != critique.version_id:
        base, base_is_published = versions[critique.published_version_id], True
    else:
        base = next((v for v in versions.values() if v.number == latest.number - 1), None)
        base_is_published = base is not None and base.pk == critique.published_version_id
    passages = {"new": _passage(critique, latest)}
    if base is not None:
        passages["old"] = _passage(critique, base)
    revision_ids = {place[0] for place in passages.values()}
    revisions = Revision.objects.only("number", "text").in_bulk(revision_ids)
    shown = {name: passage_in_context(revisions[place[0]], *place[1:]) for name, place in passages.items()}
    change = {
        "critique": critique,
        "latest": latest,
        "base": base,
        "base_is_published": base_is_published,
        "new_passage": shown["new"],
        "reasons": reasons_given(critique),
    }
    if base is not None:
        change.update(
            {
                "category_changed": base.category != latest.category,
                "old_category": category_label(base.category),
                "new_category": category_label(latest.category),
                "note_changed": base.body != latest.body,
                "note_diff": note_diff_html(base.body, latest.body),
                "evidence": evidence_change(base.evidence, latest.evidence),
                "passage_changed": passages["old"] != passages["new"],
                "old_passage": shown["old"],
            }
        )
    return change


def category_label(value):
    """A version's category as a reader reads it; a reply's version has none."""
    return Category(value).label if value in Category.values else ""


# The reading page's mode for selecting the passage again ---------------------


def reselect_context(request, revision, current_number):
    """
    ``{critique, edit_url, number}`` when the author opened the current text to
    select their critique's passage again (``?reselect=<critique>``), else None.
    Another's critique, one that can't be edited, or an older revision: None.
    """
    pk = id_from(request.GET.get("reselect", ""))
    if pk is None or not request.user.is_authenticated or revision.number != current_number:
        return None
    critique = (
        Critique.objects.filter(pk=pk, author=request.user, document_id=revision.document_id)
        .only("pk", "status", "published_version_id", "document_id")
        .first()
    )
    if critique is None or not critique.is_editable:
        return None
    return {
        "critique": critique,
        "edit_url": reverse("annotations:critique_edit", args=[critique.pk]),
        "number": revision.number,
    }
