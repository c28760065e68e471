"""
A critique's own pages: its permalink with the passage in context and its
public history, the author's edit and withdraw pages, flagging, and "My
critiques". Every page shows what the visibility rule allows, in the wording
``shown_version`` picks; writes go through ``annotations.services``.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from annotations import lifecycle, services
from annotations.citing import critique_citation
from annotations.critiques import replies, versions
from annotations.departures import departed_critique
from annotations.forms import (
    CritiqueContentForm,
    FlagForm,
    PassageForm,
    categories_needing_evidence_text,
    category_guide,
)
from annotations.lifecycle import Action, Status
from annotations.models import CATEGORY_SIGNS, AnchorState, Category, Critique, Flag
from annotations.pages import (
    change_saved_message,
    conflict_page,
    detach_explanation,
    detached_since,
    entry_or_404,
    flag_rate,
    forbidden_page,
    latest_reason,
    rate_limited_page,
    status_label,
)
from annotations.services import AlreadyFlagged, ModerationConflict
from annotations.structured_data import claim_review_data
from annotations.visibility import is_moderator, sees_latest_wording, shown_version, visible_history
from archive.models import Revision
from archive.structured_data import json_ld_script
from archive.text_fragments import passage_at_source_url

CRITIQUES_PER_PAGE = 25

CONTEXT_CHARS = 200


def critique_history(user, critique, events):
    """The history ``visible_history`` lets ``user`` see, as ``{verb, date, by, reason}``."""
    entries = []
    for entry in visible_history(user, critique, events):
        verb, by = Action(entry.action).label, ""
        if entry.action == Action.WITHDRAW:
            verb, by = "Withdrawn", "by the author"
        elif entry.by_author:
            by = "by the author" if entry.action == Action.REATTACH else ""
        else:
            by = f"by {entry.actor}" if entry.actor else "by a moderator"
        entries.append({"verb": verb, "date": entry.created, "by": by, "reason": entry.reason})
    return entries


def current_place(critique):
    """
    Where the reading page shows the critique beside its passage: the
    document's current text where its passage is placed there, else the
    revision it was written on; and, when it is detached from the current
    text, why. ``(in_text_url, detach_reason)``, in one query.
    """
    document = critique.document
    anchor = (
        critique.anchors.filter(revision_id=document.current_revision_id)
        .annotate(since=detached_since(OuterRef("revision__number"), critique="critique_id"))
        .values("state", "reason", "since")
        .first()
    )
    detached = anchor is not None and anchor["state"] == AnchorState.DETACHED
    placed = anchor is not None and not detached
    page = document.get_absolute_url() if placed else critique.revision.get_absolute_url()
    reason = detach_explanation(anchor["reason"], anchor["since"]) if detached else ""
    return f"{page}#critique-{critique.pk}", reason


def render_critique_page(request, critique, flag_form=None, status=200, reply_form=None):
    """The critique's permalink page, with the flag form (and its errors) for registered readers."""
    if critique.is_reply:
        return replies.render_reply_page(request, critique, flag_form=flag_form, status=status)
    user = request.user
    version = shown_version(user, critique)
    # The passage of the version shown: the critique's own, or one its author selected again.
    passage_revision = critique.revision
    start, end = critique.start, critique.end
    if version.passage_revision_id is not None:
        passage_revision = Revision.objects.get(pk=version.passage_revision_id)
        start, end = version.passage_start, version.passage_end
    text = passage_revision.text
    events = list(critique.events.select_related("actor").order_by("created", "pk"))
    reasoned = [event.reason for event in events if lifecycle.reason_required(event.action)]
    critique.latest_reason = reasoned[-1] if reasoned else None  # for the status line
    is_author = user.is_authenticated and critique.author_id == user.pk
    may_flag = user.is_authenticated and not is_author and critique.is_public
    already_flagged = may_flag and Flag.objects.filter(critique=critique, user=user).exists()
    if may_flag and not already_flagged and flag_form is None:
        flag_form = FlagForm()
    in_text_url, detach_reason = current_place(critique)
    claim_review = claim_review_data(request, critique, events, known_revision=passage_revision)
    return render(
        request,
        "annotations/critique_detail.html",
        {
            "critique": critique,
            "version": version,
            "category_label": Category(version.category).label,
            "status": status_label(critique) if sees_latest_wording(user, critique) else "",
            "passage_revision": passage_revision,
            "before": text[max(0, start - CONTEXT_CHARS) : start],
            "passage": text[start:end],
            "after": text[end : end + CONTEXT_CHARS],
            "cut_before": start > CONTEXT_CHARS,
            "cut_after": end + CONTEXT_CHARS < len(text),
            "history": critique_history(user, critique, events),
            "versions": versions.visible_versions(user, critique, events),
            # Moderators see a pending change against what it would replace (the queue shows it too).
            "show_change": is_moderator(user) and critique.status == Status.PENDING and critique.version.number > 1,
            "in_text_url": in_text_url,
            "detach_reason": detach_reason,
            "at_source_url": passage_at_source_url(critique.document.original_url, text, start, end),
            "structured_data": json_ld_script(claim_review) if claim_review else "",
            "citation": critique_citation(request, critique),
            "is_author": is_author,
            "already_flagged": already_flagged,
            "flag_form": flag_form if may_flag and not already_flagged else None,
            **replies.replies_context(request, critique, reply_form),
        },
        status=status,
    )


def critique_detail(request, pk):
    try:
        critique = entry_or_404(request, pk)
    except Http404:
        # A critique readers once saw keeps its address: 410 with what happened to it.
        departed = departed_critique(request.user, pk)
        if departed is None:
            raise
        return render_gone_page(request, departed)
    return render_critique_page(request, critique)


def critique_version(request, pk, number):
    """
    One version of a critique, as it was written. Readers may open the
    versions once published; the author and moderators every one. Any other
    is not there (404), like a critique the viewer may not see.
    """
    critique = entry_or_404(request, pk)  # a reply has versions too
    version = critique.versions.select_related("passage_revision").filter(number=number).first()
    if version is None or not versions.may_open_version(request.user, critique, number):
        raise Http404("No such version.")
    version.critique = critique  # its passage defaults to the critique's own
    revision = version.passage_revision or critique.revision
    _, start, end, _ = version.passage
    shown = shown_version(request.user, critique)
    context = {
        "critique": critique,
        "version": version,
        "category_label": versions.category_label(version.category),
        "passage": versions.passage_in_context(revision, start, end),
        "is_shown": version.pk == shown.pk,
        "versions": versions.visible_versions(request.user, critique, critique.events.all()),
    }
    return render(request, "annotations/critique_version.html", context)


def render_gone_page(request, departed):
    """A once-published critique's permalink after it left public view: the notice and the public history."""
    critique = departed.critique
    history = [
        {"verb": Action(entry.action).label, "date": entry.created, "by": "", "reason": ""}
        for entry in departed.history
    ]
    context = {"critique": critique, "departed": departed, "history": history}
    return render(request, "annotations/critique_gone.html", context, status=410)


def _own_critique(request, pk):
    critique = entry_or_404(request, pk)  # a critique or a reply
    if critique.author_id != request.user.pk:
        raise PermissionDenied("Only the author can change a critique.")
    return critique


def _new_passage(critique, passage_form):
    """
    The passage the author selected again, as ``(selector for critique_edit,
    passage in context)``, or ``(None, None)``. ValidationError when it names
    no revision of the document or is not in it; ModerationConflict when its
    revision is no longer the current one.
    """
    selector = passage_form.selector()
    if selector is None:
        return None, None
    revision = critique.document.revisions.filter(number=selector.pop("number")).first()
    if revision is None:
        raise ValidationError("The new passage names no revision of this document: select it again.")
    if revision.pk != critique.document.current_revision_id:
        raise ModerationConflict(
            critique, "A newer revision of the document was recorded since you selected the passage: select it again."
        )
    exact, start, end, _, _ = services.locate_passage(revision, **selector)
    shown = versions.passage_in_context(revision, start, end)
    return {"revision": revision, **selector}, shown


@login_required
def critique_edit(request, pk):
    """
    The author's change: wording, evidence and, selected again on the reading
    page (``?reselect=``), the passage, saved together as one version. The
    page shows why moderators asked for a change, and the change so far.
    """
    try:
        critique = _own_critique(request, pk)
    except PermissionDenied as error:
        return forbidden_page(request, error, None)
    if not critique.is_editable:
        return conflict_page(
            request,
            ModerationConflict(
                critique,
                f"A critique that is “{critique.get_status_display()}” can't be edited.",
            ),
        )
    if critique.is_reply:
        return replies.reply_edit(request, critique)
    status = 200
    # The new passage comes back from the reading page in the address, then travels in the form.
    passage_form = PassageForm(request.POST if request.method == "POST" else request.GET)
    passage, new_passage = None, None
    try:
        if passage_form.is_valid():
            passage, new_passage = _new_passage(critique, passage_form)
    except ValidationError as error:
        passage_form.add_error(None, error.messages)
    except ModerationConflict as error:
        passage_form.add_error(None, str(error))
        status = 409 if request.method == "POST" else 200  # the typing is kept; only saving conflicts
    if request.method == "POST":
        form = CritiqueContentForm(request.POST)
        if form.is_valid() and passage_form.is_valid():
            was_public = critique.is_public
            try:
                services.critique_edit(critique, user=request.user, **form.content(), passage=passage)
            except ValidationError as error:
                form.add_service_errors(error)
            except ModerationConflict as error:
                return conflict_page(request, error)
            else:
                messages.success(request, change_saved_message(critique, was_public))
                return redirect(critique)
        status = max(status, 400)
    else:
        form = CritiqueContentForm(initial=CritiqueContentForm.initial_from_version(critique.version))
    passage_errors = passage_form.non_field_errors()
    if not passage_form.is_valid():
        passage_form = PassageForm()  # a passage that won't do is not carried on
    return render(
        request,
        "annotations/critique_edit.html",
        {
            "critique": critique,
            "form": form,
            "passage_form": passage_form,
            "passage_errors": passage_errors,
            "new_passage": new_passage,
            "passage_exact": critique.version.passage_exact or critique.exact,
            "reselect_url": f"{critique.document.get_absolute_url()}?reselect={critique.pk}",
            **versions.reasons_context(critique),
            "categories": category_guide(),
            "evidence_rule": categories_needing_evidence_text(),
        },
        status=status,
    )


@login_required
def critique_withdraw(request, pk):
    """GET asks to confirm; POST withdraws."""
    try:
        critique = _own_critique(request, pk)
    except PermissionDenied as error:
        return forbidden_page(request, error, None)
    if request.method == "POST":
        try:
            services.critique_withdraw(critique, user=request.user)
        except ModerationConflict as error:
            return conflict_page(request, error)
        what = "reply" if critique.is_reply else "critique"
        messages.success(request, f"Your {what} was withdrawn. Readers no longer see it.")
        return redirect(critique)
    if not critique.is_withdrawable:
        return conflict_page(
            request,
            ModerationConflict(
                critique,
                f"A critique that is “{critique.get_status_display()}” can't be withdrawn.",
            ),
        )
    return render(request, "annotations/critique_withdraw.html", {"critique": critique})


@login_required
@require_POST
@ratelimit(key="user", rate=flag_rate, method="POST", block=False)
def critique_flag(request, pk):
    critique = entry_or_404(request, pk)  # replies are flagged as critiques are
    if request.limited:
        return rate_limited_page(request, "flags", settings.FLAG_RATE)
    form = FlagForm(request.POST)
    form.is_valid()
    try:
        services.critique_flag(critique, user=request.user, reason=form.cleaned_data.get("reason", ""))
    except ValidationError as error:
        form.add_service_errors(error)
        return render_critique_page(request, critique, flag_form=form, status=400)
    except PermissionDenied as error:
        return forbidden_page(request, error, critique)
    except ModerationConflict as error:
        return conflict_page(request, error)
    except AlreadyFlagged as error:
        messages.info(request, str(error))
        return redirect(critique)
    messages.success(request, "Thank you: moderators will look at this critique again.")
    return redirect(critique)


@login_required
def my_critiques(request):
    # Replies too: the author follows their replies' review here as their critiques'.
    critiques = (
        Critique.entries.filter(author=request.user)
        .select_related("document", "revision", "version")
        .defer("revision__text", "document__notes", "version__body", "version__body_html")
        .annotate(latest_reason=latest_reason())
        .order_by("-created", "-pk")
    )
    page = Paginator(critiques, CRITIQUES_PER_PAGE).get_page(request.GET.get("page"))
    rows = []
    for critique in page:
        critique.revision.document = critique.document  # the same row: no lookup for links
        rows.append(
            {
                "critique": critique,
                "category_label": (
                    f"Reply to critique {critique.parent_id}"
                    if critique.is_reply
                    else Category(critique.version.category).label
                ),
                "sign": CATEGORY_SIGNS.get(critique.version.category, ""),
                "status": status_label(critique),
            }
        )
    return render(request, "annotations/my_critiques.html", {"page": page, "rows": rows})
