"""
The moderators' review queue and the one endpoint that records their decisions.

``queue`` lists critiques that need a decision, oldest first, a page at a
time from a keyset cursor (``?after=`` / ``?before=`` a ``created,pk``), each with its
passage in context, its wording, evidence, open flags and the author's record,
in a fixed number of SQL queries. ``decide`` parses a POST (one critique or a
bulk selection), calls ``critique_decide`` once per critique (each in its
own transaction: one that fails leaves the others decided) and redirects
back to the queue with each critique's outcome: a decision that lost a race is reported as
"already decided" rather than answered with a 409, so the moderator lands on
the fresh queue (Post/Redirect/Get).
"""

import logging
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from annotations import services
from annotations.lifecycle import DECISIONS, Action, Status
from annotations.models import Category, Critique
from annotations.moderation.queue import (
    ACTION_BUTTONS,
    BULK_ACTIONS,
    CONTEXT_CHARS,
    FLAGGED_Q,
    ITEM_ACTIONS,
    ITEMS_PER_PAGE,
    NEEDS_REVIEW,
    STATUS_FILTERS,
    QueueFilterForm,
    cursor_of,
    keyset_page,
    parse_cursor,
    queue_filter,
    queue_items,
)
from annotations.visibility import is_moderator
from archive.models import Document

logger = logging.getLogger(__name__)


def _moderators_only(view):
    """Anonymous users are sent to log in; other non-moderators get 403."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            # After logging in, come back to the queue (with its filters), never to the POST-only endpoint.
            back = request.get_full_path() if request.method == "GET" else reverse("annotations:moderation_queue")
            return redirect_to_login(back)
        if not is_moderator(request.user):
            raise PermissionDenied("The review queue is for moderators.")
        return view(request, *args, **kwargs)

    return wrapped


@require_GET
@_moderators_only
def queue(request):
    """The critiques waiting for a decision, oldest first."""
    form = QueueFilterForm(request.GET)
    # A filter that doesn't parse is dropped (and the page says so); the valid ones still apply.
    form.is_valid()
    data = form.cleaned_data
    items = queue_items(data)
    after, before = parse_cursor(request.GET.get("after")), parse_cursor(request.GET.get("before"))
    cursor_ignored = any(
        request.GET.get(name) and cursor is None for name, cursor in (("after", after), ("before", before))
    )
    page, has_older, has_newer = keyset_page(items, after=after, before=before)
    for item in page:
        item.context_truncated_before = item.start > CONTEXT_CHARS
        item.context_truncated_after = item.end + CONTEXT_CHARS < item.revision.length
        item.is_own = item.author_id == request.user.pk
        item.actions = [
            (action, ACTION_BUTTONS[action])
            for action in ITEM_ACTIONS
            # Dismissing flags is offered only when there are some to dismiss.
            if item.allows(action) and (action != Action.DISMISS_FLAGS or item.open_flags)
        ]
        item.bulk_actionable = not item.is_own and any(item.allows(action) for action in BULK_ACTIONS)
    counts = Critique.objects.aggregate(
        pending=Count("pk", filter=Q(status=Status.PENDING)),
        flagged=Count("pk", filter=FLAGGED_Q),
    )
    return render(
        request,
        "annotations/moderation/queue.html",
        {
            "form": form,
            "page": page,
            # Counted apart: the page itself is read from its cursor on, whatever its depth.
            "total": queue_filter(data).count(),
            "older": cursor_of(page[0]) if has_older else None,
            "newer": cursor_of(page[-1]) if has_newer else None,
            "cursor_ignored": cursor_ignored,
            "counts": counts,
            "status_filters": STATUS_FILTERS,
            "categories": Category.choices,
            # Only documents with critiques: filtering by any other finds nothing, and the archive may hold thousands.
            "documents": Document.objects.filter(Exists(Critique.objects.filter(document=OuterRef("pk"))))
            .order_by("title")
            .values_list("slug", "title"),
            "selected_status": data.get("status") or NEEDS_REVIEW,
            "bulk_actions": [(action, ACTION_BUTTONS[action]) for action in BULK_ACTIONS],
            "bulk_possible": any(item.bulk_actionable for item in page),
        },
    )


def _back_to_queue(request):
    """The queue page the moderator came from, filters kept; never another site."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("annotations:moderation_queue")


def _error_text(error):
    if hasattr(error, "message_dict"):
        return " ".join(
            f"{field.replace('_', ' ').capitalize()}: {' '.join(texts)}" for field, texts in error.message_dict.items()
        )
    return " ".join(error.messages)


@require_POST
@_moderators_only
def decide(request):
    """
    Record a decision on one critique, or the same decision on several.

    Each critique is decided by its own ``critique_decide`` call (one event
    each) with the status the moderator saw, sent as ``expected_<id>`` or, for
    a single item, ``expected_status``.
    """
    action = request.POST.get("action", "")
    if action not in DECISIONS:
        messages.error(request, "Choose a decision: " + ", ".join(ACTION_BUTTONS[a].lower() for a in DECISIONS) + ".")
        return _back_to_queue(request)
    # Check the reason once, before anything changes, so a bulk decision is all or nothing on that count.
    try:
        reason = services.clean_decision_reason(action, request.POST.get("reason", ""))
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return _back_to_queue(request)
    ids = request.POST.getlist("critique")
    if not ids:
        messages.error(request, "Select at least one critique.")
        return _back_to_queue(request)
    if not all(value.isdigit() for value in ids) or len(ids) > ITEMS_PER_PAGE:
        messages.error(request, "The selection was not understood; reload the queue and try again.")
        return _back_to_queue(request)

    critiques = Critique.objects.in_bulk([int(value) for value in ids])
    decided, already, refused, errors = [], [], [], []
    for pk in dict.fromkeys(int(value) for value in ids):
        critique = critiques.get(pk)
        expected = request.POST.get(f"expected_{pk}") or request.POST.get("expected_status")
        if critique is None or not expected:
            errors.append(f"Critique {pk}: not found, or the page was out of date; reload the queue.")
            continue
        try:
            services.critique_decide(
                critique,
                moderator=request.user,
                action=action,
                reason=reason,
                expected_status=expected,
            )
        except services.AlreadyDecided as error:
            already.append(str(error))
        except services.ModerationConflict as error:
            errors.append(
                f"Critique {pk} is “{error.critique.get_status_display()}”: "
                f"{ACTION_BUTTONS[action].lower()} is not possible now."
            )
        except PermissionDenied:
            refused.append(pk)
        except ValidationError as error:
            errors.append(f"Critique {pk}: {_error_text(error)}")
        except DatabaseError:
            # Each critique is decided in its own transaction: this one is rolled back, the others stand.
            logger.exception("decision on critique %s failed", pk)
            errors.append(f"Critique {pk} could not be decided just now; nothing was changed. Try it again.")
        else:
            decided.append(pk)

    label = Action(action).label.lower()
    if decided:
        if len(decided) == 1:
            messages.success(request, f"Critique {decided[0]}: {label}.")
        else:
            messages.success(request, f"{len(decided)} critiques {label}: {', '.join(map(str, decided))}.")
    for text in already:
        messages.warning(request, f"{text} Another moderator got there first; nothing was changed.")
    if refused:
        numbers = ", ".join(str(pk) for pk in refused)
        messages.error(
            request,
            f"Not decided: critique{'s' if len(refused) > 1 else ''} {numbers} "
            f"{'are' if len(refused) > 1 else 'is'} your own; another moderator must decide.",
        )
    for text in errors:
        messages.error(request, text)
    return _back_to_queue(request)
