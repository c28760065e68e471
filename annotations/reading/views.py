"""
The annotated reading pages: a document's current text and its revision
permalinks with the visible critiques highlighted and listed in the margin,
the form to critique a passage from there, re-attaching a detached critique,
and searching documents and critiques together.

The reading pages take over the archive's addresses (same lookups, the
archive's template extended). Every page shows exactly what the visibility
rule allows, in the wording ``shown_version`` picks, and runs a fixed number
of SQL queries whatever the number of critiques. Writes go through
``annotations.services``.
"""

import unicodedata
from collections import namedtuple
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, F, FilteredRelation, Q, When
from django.db.models.functions import Left
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.views.decorators.http import require_POST, require_safe
from django_ratelimit.decorators import ratelimit

from annotations import lifecycle, services
from annotations.critiques.versions import reselect_context
from annotations.forms import (
    CritiqueForm,
    ReattachForm,
    categories_needing_evidence_text,
    category_guide,
)
from annotations.lifecycle import Action, Status
from annotations.models import CATEGORY_SIGNS, AnchorState, Category, Critique
from annotations.pages import (
    conflict_page,
    critique_or_404,
    critique_rate,
    detach_explanation,
    detached_since,
    forbidden_page,
    latest_reason,
    rate_limited_page,
    status_label,
)
from annotations.reading.apparatus import Glance
from annotations.reading.bodies import kept_body, readers_body, reading_page_response, render_body
from annotations.reading.highlighting import Span, highlighted_text_html
from annotations.reading.margin import EXCERPT_SOURCE_CHARS, excerpt, full_note_html, notes_html
from annotations.search import critique_snippets, search_critiques
from annotations.services import ModerationConflict
from annotations.visibility import (
    sees_latest_wording,
    sees_readers_view,
    shown_version,
    visible_critiques,
    visible_reply_count,
)
from archive import citations
from archive.badges import attach_badges
from archive.blocks import text_blocks
from archive.changes import request_document_state
from archive.memento import links_to_timegate, memento_headers
from archive.models import Document
from archive.search import document_passages, search_documents
from archive.shortcuts import current_revision_or_404, revision_or_404
from archive.structured_data import json_ld_script, reading_page_data
from archive.text_fragments import passage_at_source_url

QUOTE_CHARS = 160


class CritiqueRow:
    """
    A critique as the reading page reads it: only the columns it shows, from
    one ``values_list`` row (building model instances costs more than the
    rest of the page once there are thousands). ``is_public`` is the model's.
    """

    __slots__ = (
        "pk",
        "exact",
        "status",
        "author_id",
        "author_name",
        "version_id",
        "published_version_id",
        "revision_id",
        "revision_number",
        "anchor_start",
        "anchor_end",
        "anchor_state",
        "anchor_reason",
        "detached_since",
        "version",
        "published_version",
        "latest_reason",
        "reply_count",
        "passage_awaits_review",
    )
    is_public = Critique.is_public

    def get_status_display(self):
        return Status(self.status).label


# A critique's wording as the margin shows it: its category and the start of its explanation's HTML,
# enough for an excerpt (``margin.excerpt``); the whole note is loaded when the reader opens it (``critique_note``).
Wording = namedtuple("Wording", "category excerpt")

ROW_COLUMNS = (
    "pk",
    "exact",
    "status",
    "author_id",
    "author__username",
    "version_id",
    "published_version_id",
    "revision_id",
    "revision__number",
    "anchor_start",
    "anchor_end",
    "anchor_state",
    "anchor_reason",
    "detached_since",
    "reply_count",
)
WORDING_COLUMNS = ("category", "excerpt")
WORDINGS_AT = len(ROW_COLUMNS)  # where a row's wordings begin
CATEGORY_LABELS = dict(Category.choices)


class MarginNote:
    """One critique as the viewer may see it on one revision: its wording, its place, how it is labelled."""

    def __init__(self, critique, revision, links):
        self.critique = critique
        self.id = critique.pk
        full = links.sees_latest_wording(critique)
        self.version = shown_version(None, critique, latest=full)
        self.category_label = CATEGORY_LABELS[self.version.category]
        self.sign = CATEGORY_SIGNS[self.version.category]
        self.is_public = critique.is_public
        # Readers learn nothing about moderation; authors and moderators see the status.
        self.status = status_label(critique) if full else ""
        self.css_class = f"cat-{self.version.category}" + ("" if self.is_public else " unpublished")
        # Worked out here rather than in the template: the page may list thousands.
        self.url = links.critique(self.id)
        self.note_url = links.note(self.id)
        self.excerpt, self.is_excerpt_cut = excerpt(self.version.excerpt)
        exact = critique.exact
        short = len(exact) <= QUOTE_CHARS and unicodedata.is_normalized("NFC", exact)
        self.quote = exact if short else Truncator(exact).chars(QUOTE_CHARS)  # what Truncator returns, sooner
        self.author_name = critique.author_name
        self.reply_count = critique.reply_count
        # Its place on this revision, from its anchor here (not the offsets it was written with).
        self.start, self.end = critique.anchor_start, critique.anchor_end
        self.is_detached = critique.anchor_state == AnchorState.DETACHED
        self.at_source_url = None if self.is_detached else links.at_source(self.start, self.end)
        self.has_moved = critique.anchor_state == AnchorState.MOVED
        self.detach_reason = (
            detach_explanation(critique.anchor_reason, critique.detached_since) if self.is_detached else ""
        )
        self.written_on = critique.revision_number if critique.revision_id != revision.pk else None
        if self.written_on:
            self.written_on_url = f"{links.revision(self.written_on)}#critique-{self.id}"
        # Only a detached critique of the current text may be placed again, by its author or a moderator, while
        # it can still change and no passage chosen again awaits review.
        self.may_reattach = (
            self.is_detached
            and revision.number == revision.current_number
            and full
            and lifecycle.allows(critique, Action.EDIT)
            and not critique.passage_awaits_review
        )

    def span(self):
        """The highlight on the text; its marker names the category, and the status if unpublished."""
        label = self.category_label
        if not self.is_public:
            label = f"{label}, {self.critique.get_status_display().lower()}"
        return Span(self.id, self.start, self.end, self.css_class, self.sign, label)


class MarginLinks:
    """
    What every note of one page asks: the addresses it links to, reversed
    once per page rather than once per note, and whether the viewer sees an
    author's latest wording, asked once per author.
    """

    MARKER = 987654321

    def __init__(self, user, document, text=""):
        self._user = user
        self._original_url, self._text = document.original_url, text
        self._critique = reverse("annotations:critique", args=[self.MARKER])
        self._note = reverse("annotations:critique_note", args=[self.MARKER])
        self._slug = document.slug
        self._revisions = {}
        self._sees_latest = {}

    def sees_latest_wording(self, critique):
        author = critique.author_id
        if author not in self._sees_latest:
            self._sees_latest[author] = sees_latest_wording(self._user, critique)
        return self._sees_latest[author]

    def at_source(self, start, end):
        """The passage ``start``–``end`` of this page's text at the source's own address, when it is known."""
        return passage_at_source_url(self._original_url, self._text, start, end) if self._original_url else None

    def critique(self, pk):
        return self._critique.replace(str(self.MARKER), str(pk))

    def note(self, pk):
        return self._note.replace(str(self.MARKER), str(pk))

    def revision(self, number):
        if number not in self._revisions:
            self._revisions[number] = reverse("revision", args=[self._slug, number])
        return self._revisions[number]


def anchored_critiques(user, revision):
    """
    The critiques ``user`` may see that have an anchor on ``revision``, as
    ``CritiqueRow``s with ``anchor_start``, ``anchor_end``, ``anchor_state``
    (and, when detached, ``anchor_reason`` and ``detached_since``), in text
    order: one query.
    """
    anchored = (
        Critique.objects.annotate(
            here=FilteredRelation("anchors", condition=Q(anchors__revision=revision)),
        )
        .filter(here__isnull=False)
        .annotate(
            anchor_start=F("here__start"),
            anchor_end=F("here__end"),
            anchor_state=F("here__state"),
            anchor_reason=F("here__reason"),
            # Asked only of a detached critique: the revision that lost its passage.
            detached_since=Case(When(here__state=AnchorState.DETACHED, then=detached_since(revision.number))),
            # How many replies the viewer may see: a subquery, so no query per note.
            reply_count=visible_reply_count(user),
        )
    )
    critiques = visible_critiques(user, anchored).order_by(
        F("anchor_start").asc(nulls_last=True),
        "anchor_end",
        "pk",
    )
    # Readers only ever see the published wording; authors and moderators may see the latest.
    wordings = ["published_version"] + (["version"] if user.is_authenticated else [])
    critiques = critiques.annotate(**{f"{w}__excerpt": Left(f"{w}__body_html", EXCERPT_SOURCE_CHARS) for w in wordings})
    columns = list(ROW_COLUMNS) + [f"{w}__{c}" for w in wordings for c in WORDING_COLUMNS]
    if user.is_authenticated:
        critiques = critiques.annotate(latest_reason=latest_reason())
        columns += ["latest_reason", "version__passage_revision_id"]
    rows = []
    for values in critiques.values_list(*columns):
        row = CritiqueRow()
        (
            row.pk,
            row.exact,
            row.status,
            row.author_id,
            row.author_name,
            row.version_id,
            row.published_version_id,
            row.revision_id,
            row.revision_number,
            row.anchor_start,
            row.anchor_end,
            row.anchor_state,
            row.anchor_reason,
            row.detached_since,
            row.reply_count,
        ) = values[:WORDINGS_AT]
        row.published_version = Wording(*values[WORDINGS_AT : WORDINGS_AT + 2]) if row.published_version_id else None
        row.version = Wording(*values[WORDINGS_AT + 2 : WORDINGS_AT + 4]) if user.is_authenticated else None
        row.latest_reason = values[WORDINGS_AT + 4] if user.is_authenticated else None
        # A passage selected again in the latest version, for review: the critique is not to be re-attached twice.
        row.passage_awaits_review = (
            user.is_authenticated
            and values[WORDINGS_AT + 5] is not None
            and row.status == Status.PENDING
            and row.version_id != row.published_version_id
        )
        rows.append(row)
    return rows


def revision_citation(request, revision):
    """The reading page's "Cite this version": the revision shown, at its permalink."""
    item = citations.revision_item(revision, request.build_absolute_uri(revision.get_absolute_url()))
    return citations.citation_panel(
        item, reverse("api-revision-detail", args=[revision.document.slug, revision.number])
    )


def reading_body(request, document, revision, current_number, viewer=None, compress=False):
    """
    The reading page's body (``bodies.render_body``) with the critiques
    ``viewer`` (the request's user by default) may see that are placed on
    ``revision``, highlighted where their anchors put them, and, listed apart,
    the critiques of earlier revisions that could not be placed here. A
    ``ValueError`` for a filter that can't be read.
    """
    viewer = viewer or request.user
    notes, earlier = [], []
    links = MarginLinks(viewer, document, revision.text)
    for critique in anchored_critiques(viewer, revision):
        note = MarginNote(critique, revision, links)
        (earlier if note.is_detached else notes).append(note)
    glance = Glance(request.GET, notes, earlier, revision.text)
    notes, earlier = glance.listed(notes), glance.listed(earlier)
    blocks = text_blocks(revision.text, document.title)
    spans = [note.span() for note in glance.highlighted(notes)]
    text_html = glance.mark_found(highlighted_text_html(revision.text, spans, blocks))
    context = {
        "document": document,
        "revision": revision,
        "current_number": current_number,
        "is_current": revision.number == current_number,
        # Both built from escaped pieces (highlighting.py, margin.py).
        "text_html": mark_safe(text_html),
        "notes_html": mark_safe(notes_html(notes)),
        "notes": notes,
        "earlier": earlier,
        "glance": glance,
        "structured_data": json_ld_script(reading_page_data(request, document, revision)),
        "citation": revision_citation(request, revision),
    }
    return render_body(request, context, compress=compress)


# What the reading page reads of its query string: the rest (a campaign's tag, say) changes nothing on it.
READING_QUERY = (*Glance.PARAMS, "reselect")


def reads_its_query(request):
    return any(name in request.GET for name in READING_QUERY)


def viewer_context(request, revision, form=None):
    """What the reading page draws for this viewer alone around its body: the critique form, the re-select form."""
    if form is None and request.user.is_authenticated:
        form = CritiqueForm()
    if form is None:
        return {"form": None, "reselect": None}
    return {
        "document": revision.document,
        "revision": revision,
        "form": form,
        "categories": category_guide(),
        "evidence_rule": categories_needing_evidence_text(),
        "reselect": reselect_context(request, revision, revision.current_number),
    }


def render_reading_page(request, document, revision, current_number, form=None, status=200):
    """
    The reading page of ``revision``: its body as every reader sees it, kept
    (``bodies``), when the viewer sees that and the address asks nothing of
    the page in its query; else drawn for this viewer. The viewer's own pieces are drawn around it.
    """
    revision.document, revision.current_number = document, current_number
    try:
        if reads_its_query(request) or not sees_readers_view(request.user, document.pk):
            body = reading_body(request, document, revision, current_number)
        else:
            # Drawn as a reader sees it, whoever asks: what they wrote since the check above is not in it.
            draw = partial(reading_body, request, document, revision, current_number, viewer=AnonymousUser())
            body = readers_body(request, document, draw)
    except ValueError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    return reading_page_response(request, body, viewer_context(request, revision, form), status=status)


def kept_readers_page(request, slug):
    """
    A reader's page of the current text from its kept body, after one query
    (the document's version, which the page's ETag asked already), or None:
    when the address has a query, the viewer is logged in, or the body at that
    version was not drawn yet (nor ever at a former address, which redirects).
    """
    if reads_its_query(request) or request.user.is_authenticated:
        return None
    state = request_document_state(request, slug)
    body = kept_body(request, *state) if state else None
    return reading_page_response(request, body, viewer_context(request, None)) if body else None


@links_to_timegate
def reading_current(request, slug):
    kept = kept_readers_page(request, slug)
    if kept is not None:
        return kept
    current = current_revision_or_404(slug)
    return render_reading_page(request, current.document, current, current.number)


@memento_headers("revision")
def reading_revision(request, slug, number):
    revision = revision_or_404(slug, number)
    return render_reading_page(request, revision.document, revision, revision.current_number)


@require_safe
def critique_note(request, pk):
    """
    A note's whole text as the reading page's margin loads it when the reader
    opens the note: the explanation and evidence in the wording the viewer may
    read. A critique the viewer may not see is not found, as its own page.
    """
    critique = critique_or_404(request, pk)
    return HttpResponse(full_note_html(shown_version(request.user, critique)))


FILED = "Your critique is awaiting review. Moderators read every critique before readers see it."


def wants_json(request):
    """The reading page's own script asks for JSON; a browser without it posts the form and gets pages."""
    return "application/json" in request.headers.get("Accept", "")


def critique_form_answer(request, revision, form, status, **data):
    """
    The answer to the reading page's script: ``data`` and the critique form as
    the page would show it (its errors by their fields, everything typed
    kept), so the script swaps it in without reloading the page.
    """
    context = {
        "form": form,
        "document": revision.document,
        "revision": revision,
        "categories": category_guide(),
        "evidence_rule": categories_needing_evidence_text(),
    }
    data["form_html"] = render_to_string("annotations/_critique_form.html", context, request=request)
    return JsonResponse(data, status=status)


@login_required
@require_POST
@ratelimit(key="user", rate=critique_rate, method="POST", block=False)
def critique_create(request, slug, number):
    revision = revision_or_404(slug, number)
    if request.limited:
        if wants_json(request):
            rate = settings.CRITIQUE_RATE.replace("/h", " an hour")
            return JsonResponse({"detail": f"You can file up to {rate} critiques. Try again later."}, status=429)
        return rate_limited_page(request, "critiques", settings.CRITIQUE_RATE)
    form = CritiqueForm(request.POST)
    if form.is_valid():
        try:
            critique = services.critique_submit(
                author=request.user,
                revision=revision,
                **form.content(),
                **form.selector(),
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            if wants_json(request):
                # A fresh form for the next passage; the page stays where the scholar is reading.
                return critique_form_answer(
                    request,
                    revision,
                    CritiqueForm(),
                    201,
                    id=critique.pk,
                    url=critique.get_absolute_url(),
                    detail=FILED,
                )
            messages.success(request, FILED)
            return redirect(critique)
    if wants_json(request):
        errors = form.errors.get_json_data()
        if form.evidence_errors:
            errors["evidence"] = [{"message": message, "code": ""} for message in form.evidence_errors]
        return critique_form_answer(request, revision, form, 400, errors=errors)
    return render_reading_page(
        request,
        revision.document,
        revision,
        revision.current_number,
        form=form,
        status=400,
    )


@login_required
@require_POST
def critique_reattach(request, pk):
    """A moderator places a detached critique on a passage of the current revision; its author proposes one."""
    critique = critique_or_404(request, pk)
    revision = current_revision_or_404(critique.document.slug)
    form = ReattachForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors)
        services.critique_reattach(critique, user=request.user, revision=revision, **form.cleaned_data)
    except PermissionDenied as error:
        return forbidden_page(request, error, critique)
    except ModerationConflict as error:
        return conflict_page(request, error)
    except ValidationError as error:
        messages.error(request, "The critique was not re-attached: " + " ".join(error.messages))
        return render_reading_page(request, revision.document, revision, revision.number, status=400)
    if critique.author_id == request.user.pk:
        # The author's placement is a change like any edit: readers see it once a moderator approves it.
        messages.success(
            request, "The new passage awaits review; readers see the critique where it was until it is approved."
        )
    else:
        messages.success(request, "The critique is placed on the passage you selected.")
    return redirect(f"{revision.document.get_absolute_url()}#critique-{critique.pk}")


SEARCH_RESULTS = 20


def search(request):
    """Search across the archive: documents, and the published critiques the reader may see."""
    query = request.GET.get("q", "").strip()[:200]
    documents, critiques = [], []
    if query:
        documents = list(
            search_documents(
                Document.objects.select_related("current_revision").defer("notes", "current_revision__text"), query
            )[:SEARCH_RESULTS]
        )
        document_passages(attach_badges(request, documents), query)
        critiques = list(
            search_critiques(
                request.user,
                query,
                Critique.objects.select_related("document", "published_version").defer("document__notes"),
            )[:SEARCH_RESULTS]
        )
        snippets = critique_snippets(critiques, query)
        for critique in critiques:
            critique.snippet = snippets.get(critique.pk, "")
            critique.category_label = Category(critique.published_version.category).label
    return render(request, "annotations/search.html", {"query": query, "documents": documents, "critiques": critiques})
