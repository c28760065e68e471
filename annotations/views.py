"""
The annotated reading pages and the scholar's critique pages.

The reading pages (current text and revision permalinks) take over the
archive's addresses: same lookups, same template (extended), plus the text
with its visible critiques highlighted and listed in the margin, and the form
to critique a passage. The critique pages are its permalink, editing,
withdrawing, flagging and "My critiques".

Every page shows exactly what ``visible_annotations`` / ``can_see`` allow, in
the wording ``shown_version`` picks, and runs a fixed number of SQL queries
whatever the number of critiques. Writes go through ``annotations.services``.
"""
import unicodedata
from collections import namedtuple

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, FilteredRelation, OuterRef, Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from archive.models import Document
from archive.search import document_snippets, search_documents
from archive.views import current_revision_or_404, revision_or_404
from archive.text import split_paragraphs

from . import services
from .forms import (
    CritiqueContentForm, CritiqueForm, FlagForm, ReattachForm, categories_needing_evidence_text, category_guide,
)
from .highlighting import Span, highlighted_text_html
from .margin import notes_html
from .models import CATEGORY_SIGNS, Action, AnchorState, Annotation, Category, Flag, ModerationEvent, Status
from .search import critique_snippets, search_critiques
from .services import AlreadyFlagged, ModerationConflict
from .visibility import can_see, is_moderator, sees_latest_wording, shown_version, visible_annotations

CRITIQUES_PER_PAGE = 25
QUOTE_CHARS = 160
CONTEXT_CHARS = 200
# Decisions whose reason the author (and moderators) are shown beside the status.
REASONED_ACTIONS = [Action.REJECT, Action.REQUEST_CHANGES, Action.HIDE]
REASONED_STATUSES = {Status.REJECTED, Status.CHANGES_REQUESTED, Status.HIDDEN}


# Read at request time, so the limits can be changed in settings (and in tests).
def critique_rate(group, request):
    return settings.CRITIQUE_RATE


def flag_rate(group, request):
    return settings.FLAG_RATE


def latest_reason():
    """The reason of a critique's latest reject / request-changes / hide decision, as a subquery."""
    events = ModerationEvent.objects.filter(annotation=OuterRef("pk"), action__in=REASONED_ACTIONS)
    return Subquery(events.order_by("-created", "-pk").values("reason")[:1])


def status_label(annotation):
    """What the author or a moderator is told about where a critique stands."""
    label = annotation.get_status_display()
    reason = getattr(annotation, "latest_reason", None)
    if annotation.status in REASONED_STATUSES and reason:
        label = f"{label}: {reason}"
    if annotation.is_public and annotation.status != Status.APPROVED:
        # Readers still see the approved wording; the status is about the proposed change.
        return f"Published; the change is {label[0].lower()}{label[1:]}"
    return label


class CritiqueRow:
    """
    A critique as the reading page reads it: only the columns it shows, from
    one ``values_list`` row (building model instances costs more than the
    rest of the page once there are thousands). ``is_public`` is the model's.
    """

    __slots__ = (
        "pk", "exact", "status", "author_id", "author_name", "version_id", "published_version_id",
        "revision_id", "revision_number", "anchor_start", "anchor_end", "anchor_state",
        "version", "published_version", "latest_reason",
    )
    is_public = Annotation.is_public

    def get_status_display(self):
        return Status(self.status).label


# A critique's wording as the margin shows it.
Wording = namedtuple("Wording", "category body_html evidence")

ROW_COLUMNS = (
    "pk", "exact", "status", "author_id", "author__username", "version_id", "published_version_id",
    "revision_id", "revision__number", "anchor_start", "anchor_end", "anchor_state",
)
WORDING_COLUMNS = ("category", "body_html", "evidence")
CATEGORY_LABELS = dict(Category.choices)


class MarginNote:
    """One critique as the viewer may see it on one revision: its wording, its place, how it is labelled."""

    def __init__(self, annotation, revision, links):
        self.annotation = annotation
        self.id = annotation.pk
        full = links.sees_latest_wording(annotation)
        self.version = annotation.version if full else annotation.published_version  # as shown_version
        self.category_label = CATEGORY_LABELS[self.version.category]
        self.sign = CATEGORY_SIGNS[self.version.category]
        self.is_public = annotation.is_public
        # Readers learn nothing about moderation; authors and moderators see the status.
        self.status = status_label(annotation) if full else ""
        self.css_class = f"cat-{self.version.category}" + ("" if self.is_public else " unpublished")
        # Worked out here rather than in the template: the page may list thousands.
        self.url = links.critique(self.id)
        exact = annotation.exact
        short = len(exact) <= QUOTE_CHARS and unicodedata.is_normalized("NFC", exact)
        self.quote = exact if short else Truncator(exact).chars(QUOTE_CHARS)  # what Truncator returns, sooner
        self.author_name = annotation.author_name
        # Its place on this revision, from its anchor here (not the offsets it was written with).
        self.start, self.end = annotation.anchor_start, annotation.anchor_end
        self.is_detached = annotation.anchor_state == AnchorState.DETACHED
        self.has_moved = annotation.anchor_state == AnchorState.MOVED
        self.written_on = annotation.revision_number if annotation.revision_id != revision.pk else None
        if self.written_on:
            self.written_on_url = f"{links.revision(self.written_on)}#critique-{self.id}"
        # Only a detached critique of the current text may be placed again, by its author or a moderator.
        self.may_reattach = self.is_detached and revision.number == revision.current_number and full

    def span(self):
        """The highlight on the text; its marker names the category, and the status if unpublished."""
        label = self.category_label
        if not self.is_public:
            label = f"{label}, {self.annotation.get_status_display().lower()}"
        return Span(self.id, self.start, self.end, self.css_class, self.sign, label)


class MarginLinks:
    """
    What every note of one page asks: the addresses it links to, reversed
    once per page rather than once per note, and whether the viewer sees an
    author's latest wording, asked once per author.
    """

    MARKER = 987654321

    def __init__(self, user, document):
        self._user = user
        self._critique = reverse("annotations:critique", args=[self.MARKER])
        self._slug = document.slug
        self._revisions = {}
        self._sees_latest = {}

    def sees_latest_wording(self, annotation):
        author = annotation.author_id
        if author not in self._sees_latest:
            self._sees_latest[author] = sees_latest_wording(self._user, annotation)
        return self._sees_latest[author]

    def critique(self, pk):
        return self._critique.replace(str(self.MARKER), str(pk))

    def revision(self, number):
        if number not in self._revisions:
            self._revisions[number] = reverse("annotations:revision", args=[self._slug, number])
        return self._revisions[number]


def anchored_critiques(user, revision):
    """
    The critiques ``user`` may see that have an anchor on ``revision``, as
    ``CritiqueRow``s with ``anchor_start``, ``anchor_end`` and
    ``anchor_state``, in text order: one query.
    """
    anchored = Annotation.objects.annotate(
        here=FilteredRelation("anchors", condition=Q(anchors__revision=revision)),
    ).filter(here__isnull=False).annotate(
        anchor_start=F("here__start"), anchor_end=F("here__end"), anchor_state=F("here__state"),
    )
    critiques = visible_annotations(user, anchored).order_by(
        F("anchor_start").asc(nulls_last=True), "anchor_end", "pk",
    )
    # Readers only ever see the published wording; authors and moderators may see the latest.
    wordings = ["published_version"] + (["version"] if user.is_authenticated else [])
    columns = list(ROW_COLUMNS) + [f"{w}__{c}" for w in wordings for c in WORDING_COLUMNS]
    if user.is_authenticated:
        critiques = critiques.annotate(latest_reason=latest_reason())
        columns.append("latest_reason")
    rows = []
    for values in critiques.values_list(*columns):
        row = CritiqueRow()
        (row.pk, row.exact, row.status, row.author_id, row.author_name, row.version_id, row.published_version_id,
         row.revision_id, row.revision_number, row.anchor_start, row.anchor_end, row.anchor_state) = values[:12]
        row.published_version = Wording(*values[12:15]) if row.published_version_id else None
        row.version = Wording(*values[15:18]) if user.is_authenticated else None
        row.latest_reason = values[18] if user.is_authenticated else None
        rows.append(row)
    return rows


def render_reading_page(request, document, revision, current_number, form=None, status=200):
    """
    The reading page with the critiques the viewer may see that are placed on
    ``revision``, highlighted where their anchors put them, and, listed apart,
    the critiques of earlier revisions that could not be placed here.
    """
    revision.document, revision.current_number = document, current_number
    notes, earlier = [], []
    links = MarginLinks(request.user, document)
    for annotation in anchored_critiques(request.user, revision):
        note = MarginNote(annotation, revision, links)
        (earlier if note.is_detached else notes).append(note)
    paragraphs = split_paragraphs(revision.text)
    text_html = highlighted_text_html(revision.text, [note.span() for note in notes], paragraphs)
    if form is None and request.user.is_authenticated:
        form = CritiqueForm()
    return render(
        request,
        "annotations/reading.html",
        {
            "document": document,
            "revision": revision,
            "current_number": current_number,
            "is_current": revision.number == current_number,
            "paragraphs": paragraphs,
            # Both built from escaped pieces (highlighting.py, margin.py).
            "text_html": mark_safe(text_html),
            "notes_html": mark_safe(notes_html(notes)),
            "notes": notes,
            "earlier": earlier,
            "form": form,
            "categories": category_guide(),
            "evidence_rule": categories_needing_evidence_text(),
        },
        status=status,
    )


def reading_current(request, slug):
    current = current_revision_or_404(slug)
    return render_reading_page(request, current.document, current, current.number)


def reading_revision(request, slug, number):
    revision = revision_or_404(slug, number)
    return render_reading_page(request, revision.document, revision, revision.current_number)


def _too_many(request, what, rate):
    context = {"what": what, "rate": rate.replace("/h", " an hour")}
    return render(request, "annotations/rate_limited.html", context, status=429)


def _conflict(request, error):
    context = {"message": str(error), "annotation": error.annotation}
    return render(request, "annotations/conflict.html", context, status=409)


def _forbidden(request, error, annotation):
    context = {"message": str(error), "annotation": annotation}
    return render(request, "annotations/forbidden.html", context, status=403)


@login_required
@require_POST
@ratelimit(key="user", rate=critique_rate, method="POST", block=False)
def critique_create(request, slug, number):
    revision = revision_or_404(slug, number)
    if request.limited:
        return _too_many(request, "critiques", settings.CRITIQUE_RATE)
    form = CritiqueForm(request.POST)
    if form.is_valid():
        try:
            annotation = services.annotation_submit(
                author=request.user, revision=revision, **form.content(), **form.selector(),
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(
                request, "Your critique is awaiting review. Moderators read every critique before readers see it.",
            )
            return redirect(annotation)
    return render_reading_page(
        request, revision.document, revision, revision.current_number, form=form, status=400,
    )


def _critique_or_404(request, pk):
    """The critique if the user may see it; otherwise it does not exist for them."""
    critiques = Annotation.objects.select_related("document", "revision", "author", "version", "published_version")
    annotation = get_object_or_404(critiques, pk=pk)
    if not can_see(request.user, annotation):
        raise Http404("No critique here.")
    return annotation


MODERATOR_ACTIONS = {
    Action.APPROVE, Action.REJECT, Action.REQUEST_CHANGES, Action.HIDE, Action.REOPEN, Action.DISMISS_FLAGS,
    Action.REATTACH,  # when not the author's own
}


def critique_history(user, annotation, events):
    """
    The critique's history as ``{verb, date, by, reason}``. Everyone sees when
    it was submitted and approved; the author and moderators see every event
    with its reason; only moderators see which moderator acted.
    """
    full = sees_latest_wording(user, annotation)
    moderator = is_moderator(user)
    entries = []
    for event in events:
        if not full and event.action not in {Action.SUBMIT, Action.APPROVE}:
            continue
        verb, by = event.get_action_display(), ""
        if event.action == Action.WITHDRAW:
            verb, by = "Withdrawn", "by the author"
        elif event.action == Action.REATTACH and event.actor_id == annotation.author_id:
            by = "by the author"
        elif event.action in MODERATOR_ACTIONS:
            by = f"by {event.actor.get_username()}" if moderator else "by a moderator"
        reason = event.reason if full else ""
        entries.append({"verb": verb, "date": event.created, "by": by, "reason": reason})
    return entries


def render_critique_page(request, annotation, flag_form=None, status=200):
    """The critique's permalink page, with the flag form (and its errors) for registered readers."""
    user = request.user
    version = shown_version(user, annotation)
    text = annotation.revision.text
    events = list(annotation.events.select_related("actor").order_by("created", "pk"))
    reasoned = [event.reason for event in events if event.action in REASONED_ACTIONS]
    annotation.latest_reason = reasoned[-1] if reasoned else None  # for the status line
    is_author = user.is_authenticated and annotation.author_id == user.pk
    may_flag = user.is_authenticated and not is_author and annotation.is_public
    already_flagged = may_flag and Flag.objects.filter(annotation=annotation, user=user).exists()
    if may_flag and not already_flagged and flag_form is None:
        flag_form = FlagForm()
    return render(
        request,
        "annotations/critique_detail.html",
        {
            "annotation": annotation,
            "version": version,
            "category_label": Category(version.category).label,
            "status": status_label(annotation) if sees_latest_wording(user, annotation) else "",
            "before": text[max(0, annotation.start - CONTEXT_CHARS):annotation.start],
            "passage": text[annotation.start:annotation.end],
            "after": text[annotation.end:annotation.end + CONTEXT_CHARS],
            "cut_before": annotation.start > CONTEXT_CHARS,
            "cut_after": annotation.end + CONTEXT_CHARS < len(text),
            "history": critique_history(user, annotation, events),
            "is_author": is_author,
            "already_flagged": already_flagged,
            "flag_form": flag_form if may_flag and not already_flagged else None,
        },
        status=status,
    )


def critique_detail(request, pk):
    return render_critique_page(request, _critique_or_404(request, pk))


def _own_critique(request, pk):
    annotation = _critique_or_404(request, pk)
    if annotation.author_id != request.user.pk:
        raise PermissionDenied("Only the author can change a critique.")
    return annotation


@login_required
def critique_edit(request, pk):
    try:
        annotation = _own_critique(request, pk)
    except PermissionDenied as error:
        return _forbidden(request, error, None)
    if not annotation.is_editable:
        return _conflict(request, ModerationConflict(
            annotation, f"A critique that is “{annotation.get_status_display()}” can't be edited.",
        ))
    if request.method == "POST":
        form = CritiqueContentForm(request.POST)
        if form.is_valid():
            was_public = annotation.is_public
            try:
                services.annotation_edit(annotation, user=request.user, **form.content())
            except ValidationError as error:
                form.add_service_errors(error)
            except ModerationConflict as error:
                return _conflict(request, error)
            else:
                messages.success(request, (
                    "Your change awaits review; readers keep seeing the approved wording." if was_public
                    else "Your critique is awaiting review."
                ))
                return redirect(annotation)
        status = 400
    else:
        form = CritiqueContentForm(initial=CritiqueContentForm.initial_from_version(annotation.version))
        status = 200
    return render(
        request,
        "annotations/critique_edit.html",
        {
            "annotation": annotation,
            "form": form,
            "categories": category_guide(),
            "evidence_rule": categories_needing_evidence_text(),
        },
        status=status,
    )


@login_required
def critique_withdraw(request, pk):
    """GET asks to confirm; POST withdraws."""
    try:
        annotation = _own_critique(request, pk)
    except PermissionDenied as error:
        return _forbidden(request, error, None)
    if request.method == "POST":
        try:
            services.annotation_withdraw(annotation, user=request.user)
        except ModerationConflict as error:
            return _conflict(request, error)
        messages.success(request, "Your critique was withdrawn. Readers no longer see it.")
        return redirect(annotation)
    if not annotation.is_withdrawable:
        return _conflict(request, ModerationConflict(
            annotation, f"A critique that is “{annotation.get_status_display()}” can't be withdrawn.",
        ))
    return render(request, "annotations/critique_withdraw.html", {"annotation": annotation})


@login_required
@require_POST
@ratelimit(key="user", rate=flag_rate, method="POST", block=False)
def critique_flag(request, pk):
    annotation = _critique_or_404(request, pk)
    if request.limited:
        return _too_many(request, "flags", settings.FLAG_RATE)
    form = FlagForm(request.POST)
    form.is_valid()
    try:
        services.annotation_flag(annotation, user=request.user, reason=form.cleaned_data.get("reason", ""))
    except ValidationError as error:
        form.add_service_errors(error)
        return render_critique_page(request, annotation, flag_form=form, status=400)
    except PermissionDenied as error:
        return _forbidden(request, error, annotation)
    except ModerationConflict as error:
        return _conflict(request, error)
    except AlreadyFlagged as error:
        messages.info(request, str(error))
        return redirect(annotation)
    messages.success(request, "Thank you: moderators will look at this critique again.")
    return redirect(annotation)


@login_required
@require_POST
def critique_reattach(request, pk):
    """The author or a moderator places a detached critique on a passage of the current revision."""
    annotation = _critique_or_404(request, pk)
    revision = current_revision_or_404(annotation.document.slug)
    form = ReattachForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors)
        services.annotation_reattach(annotation, user=request.user, revision=revision, **form.cleaned_data)
    except PermissionDenied as error:
        return _forbidden(request, error, annotation)
    except ModerationConflict as error:
        return _conflict(request, error)
    except ValidationError as error:
        messages.error(request, "The critique was not re-attached: " + " ".join(error.messages))
        return render_reading_page(request, revision.document, revision, revision.number, status=400)
    messages.success(request, "The critique is placed on the passage you selected.")
    return redirect(f"{revision.document.get_absolute_url()}#critique-{annotation.pk}")


@login_required
def my_critiques(request):
    critiques = (
        Annotation.objects.filter(author=request.user)
        .select_related("document", "revision", "version")
        .defer("revision__text", "document__notes", "version__body", "version__body_html")
        .annotate(latest_reason=latest_reason())
        .order_by("-created", "-pk")
    )
    page = Paginator(critiques, CRITIQUES_PER_PAGE).get_page(request.GET.get("page"))
    rows = []
    for annotation in page:
        annotation.revision.document = annotation.document  # the same row: no lookup for links
        rows.append({
            "annotation": annotation,
            "category_label": Category(annotation.version.category).label,
            "sign": CATEGORY_SIGNS[annotation.version.category],
            "status": status_label(annotation),
        })
    return render(request, "annotations/my_critiques.html", {"page": page, "rows": rows})


SEARCH_RESULTS = 20


def search(request):
    """Search across the archive: documents, and the published critiques the reader may see."""
    query = request.GET.get("q", "").strip()[:200]
    documents, critiques = [], []
    if query:
        documents = list(
            search_documents(Document.objects.select_related("current_revision").defer(
                "notes", "current_revision__text"), query)[:SEARCH_RESULTS]
        )
        snippets = document_snippets(documents, query)
        for document in documents:
            document.snippet = snippets.get(document.pk, "")
        critiques = list(
            search_critiques(request.user, query, Annotation.objects.select_related(
                "document", "published_version").defer("document__notes"))[:SEARCH_RESULTS]
        )
        snippets = critique_snippets(critiques, query)
        for critique in critiques:
            critique.snippet = snippets.get(critique.pk, "")
            critique.category_label = Category(critique.published_version.category).label
    return render(request, "annotations/search.html", {"query": query, "documents": documents, "critiques": critiques})
