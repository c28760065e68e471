"""
Replies on the critique pages: the replies a viewer may see under a critique
(``visible_replies``, each in the wording ``shown_version`` picks), the form
to reply, a reply's own page (its permalink, history and flag form) and the
author's edit page. Editing, withdrawing and flagging a reply go through the
critique's own views and services: a reply is a critique with a parent.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from annotations import lifecycle, services
from annotations.critiques import versions
from annotations.critiques import views as critique_views  # the critique page's parts (it imports this module)
from annotations.forms import FlagForm, ReplyForm
from annotations.models import Flag
from annotations.pages import (
    change_saved_message,
    conflict_page,
    critique_or_404,
    critique_rate,
    latest_reason,
    rate_limited_page,
    status_label,
)
from annotations.services import ModerationConflict
from annotations.visibility import can_see, sees_latest_wording, shown_version, visible_replies

FILED = "Your reply is awaiting review. Moderators read every reply before readers see it."


def reply_url(reply):
    """Where a reply is shown among the others: on its critique's page."""
    return f"{reply.parent.get_absolute_url()}#reply-{reply.pk}"


def reply_rows(user, critique):
    """The replies ``user`` may see of ``critique``, oldest first, as the page shows them: one query."""
    replies = (
        visible_replies(user, critique)
        .select_related("author", "version", "published_version")
        .annotate(latest_reason=latest_reason())
        .order_by("created", "pk")
    )
    rows = []
    for reply in replies:
        latest = sees_latest_wording(user, reply)
        rows.append(
            {
                "reply": reply,
                "version": shown_version(user, reply, latest=latest),
                "status": status_label(reply) if latest else "",
                "is_author": user.is_authenticated and reply.author_id == user.pk,
            }
        )
    return rows


def replies_context(request, critique, reply_form=None):
    """What the critique page shows of its replies: the list, and the form for registered users."""
    may_reply = request.user.is_authenticated and critique.is_public
    if may_reply and reply_form is None:
        reply_form = ReplyForm()
    return {"replies": reply_rows(request.user, critique), "reply_form": reply_form if may_reply else None}


def render_reply_page(request, reply, flag_form=None, status=200):
    """A reply's own page: what it says, the passage and the critique it answers, its history, the flag form."""
    user = request.user
    latest = sees_latest_wording(user, reply)
    events = list(reply.events.select_related("actor").order_by("created", "pk"))
    reply.latest_reason = next(
        (event.reason for event in reversed(events) if lifecycle.reason_required(event.action)), None
    )
    is_author = user.is_authenticated and reply.author_id == user.pk
    may_flag = user.is_authenticated and not is_author and reply.is_public
    already_flagged = may_flag and Flag.objects.filter(critique=reply, user=user).exists()
    if may_flag and not already_flagged and flag_form is None:
        flag_form = FlagForm()
    text = reply.revision.text
    context = {
        "critique": reply,
        "reply": reply,
        "version": shown_version(user, reply, latest=latest),
        "status": status_label(reply) if latest else "",
        # The critique is linked only for those who may read it (its author may see a reply to a hidden one).
        "parent_visible": can_see(user, reply.parent),
        "before": text[max(0, reply.start - critique_views.CONTEXT_CHARS) : reply.start],
        "passage": text[reply.start : reply.end],
        "after": text[reply.end : reply.end + critique_views.CONTEXT_CHARS],
        "history": critique_views.critique_history(user, reply, events),
        "is_author": is_author,
        "already_flagged": already_flagged,
        "flag_form": flag_form if may_flag and not already_flagged else None,
    }
    return render(request, "annotations/reply_detail.html", context, status=status)


@login_required
@require_POST
@ratelimit(key="user", rate=critique_rate, method="POST", block=False)
def reply_create(request, pk):
    """Reply to a published critique (the same rate limit as filing critiques)."""
    critique = critique_or_404(request, pk)
    if request.limited:
        return rate_limited_page(request, "replies", settings.CRITIQUE_RATE)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            reply = services.reply_submit(author=request.user, parent=critique, **form.content())
        except ValidationError as error:
            form.add_service_errors(error)
        except ModerationConflict as error:
            return conflict_page(request, error)
        else:
            messages.success(request, FILED)
            return redirect(reply_url(reply))
    return critique_views.render_critique_page(request, critique, reply_form=form, status=400)


def reply_edit(request, reply):
    """The author's edit page of a reply (``critique_edit`` sends it here once it checked author and status)."""
    if request.method == "POST":
        form = ReplyForm(request.POST)
        if form.is_valid():
            was_public = reply.is_public
            try:
                services.critique_edit(reply, user=request.user, category="", **form.content())
            except ValidationError as error:
                form.add_service_errors(error)
            except ModerationConflict as error:
                return conflict_page(request, error)
            else:
                messages.success(request, change_saved_message(reply, was_public))
                return redirect(reply)
        status = 400
    else:
        form = ReplyForm(initial=ReplyForm.initial_from_version(reply.version))
        status = 200
    context = {"critique": reply, "form": form, **versions.reasons_context(reply)}
    return render(request, "annotations/reply_edit.html", context, status=status)
