"""
The moderators' review queue and the one endpoint that records their decisions.

``queue`` lists critiques that need a decision, oldest first, a page at a
time from a keyset cursor (``?after=`` / ``?before=`` a ``created,pk``), each with its
passage in context, its wording, evidence, open flags and the author's record,
in a fixed number of SQL queries, and shows who is reviewing which.
``review`` opens one item and claims it for the moderator
(``annotations.moderation.claims``); ``next_item`` claims and opens the oldest
free one.

``decide`` parses a POST (one critique or a bulk selection) and calls
``critique_decide`` once per critique (each in its own transaction: one that
fails leaves the others decided). A decision that is recorded, or a bulk
decision, redirects back with each outcome (Post/Redirect/Get). A single
item's decision that fails (no reason, a conflict, another moderator's claim)
renders the page it came from again, with the error by the item, the typed
reason kept and focus on it, so the moderator keeps their place.
"""

import logging
from functools import wraps
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.db.models import Exists, OuterRef
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_POST

from annotations import services
from annotations.lifecycle import DECISIONS, Action
from annotations.models import Category, Critique
from annotations.moderation import claims
from annotations.moderation.queue import (
    ACTION_BUTTONS,
    ALL,
    BULK_ACTIONS,
    CONTEXT_CHARS,
    ITEM_ACTIONS,
    ITEMS_PER_PAGE,
    KIND_FILTERS,
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
from archive.text import id_from

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


def _prepare(item, user, now):
    """What the templates need beside a queue item: context marks, its actions, who holds it."""
    item.context_truncated_before = item.start > CONTEXT_CHARS
    item.context_truncated_after = item.end + CONTEXT_CHARS < item.revision.length
    item.is_own = item.author_id == user.pk
    item.actions = [
        (action, ACTION_BUTTONS[action])
        for action in ITEM_ACTIONS
        # Dismissing flags is offered only when there are some to dismiss.
        if item.allows(action) and (action != Action.DISMISS_FLAGS or item.open_flags)
    ]
    item.held_by = claims.held_by_another(item, user, now)
    item.held_text = claims.holder_text(item.held_by) if item.held_by else ""
    # Held items stay out of bulk decisions: each would only be refused.
    item.bulk_actionable = not item.is_own and not item.held_by and any(item.allows(action) for action in BULK_ACTIONS)


def item_name(critique):
    """How messages name an item: its number and the start of its passage, e.g. Critique #12 on “…”."""
    passage = critique.exact if len(critique.exact) <= 60 else critique.exact[:59].rstrip() + "…"
    if critique.is_reply:
        return f"Reply #{critique.pk} to critique #{critique.parent_id} on “{passage}”"
    return f"Critique #{critique.pk} on “{passage}”"


def _with_failure(item, failure):
    """Mark the item a single decision failed on: its error, the moderator's typed reason, focus on it."""
    if failure is not None and failure["pk"] == item.pk:
        item.error, item.typed_reason, item.failed_action = failure["message"], failure["reason"], failure["action"]


def _queue_context(request, params, failure=None):
    """The queue page for the filters and cursor in ``params``; ``failure`` marks the item a decision failed on."""
    form = QueueFilterForm(params)
    # A filter that doesn't parse is dropped (and the page says so); the valid ones still apply.
    form.is_valid()
    data = form.cleaned_data
    items = queue_items(data)
    after, before = parse_cursor(params.get("after")), parse_cursor(params.get("before"))
    cursor_ignored = any(params.get(name) and cursor is None for name, cursor in (("after", after), ("before", before)))
    page, has_older, has_newer = keyset_page(items, after=after, before=before)
    now = timezone.now()
    for item in page:
        _prepare(item, request.user, now)
        _with_failure(item, failure)
    filters = _filter_query(data)
    return {
        "form": form,
        "page": page,
        # Counted apart: the page itself is read from its cursor on, whatever its depth.
        "total": queue_filter(data).count(),
        "older": cursor_of(page[0]) if has_older else None,
        "newer": cursor_of(page[-1]) if has_newer else None,
        "cursor_ignored": cursor_ignored,
        "status_filters": STATUS_FILTERS,
        "kind_filters": KIND_FILTERS,
        "categories": Category.choices,
        # Only documents with critiques: filtering by any other finds nothing, and the archive may hold thousands.
        "documents": Document.objects.filter(Exists(Critique.entries.filter(document=OuterRef("pk"))))
        .order_by("title")
        .values_list("slug", "title"),
        "selected_status": data.get("status") or NEEDS_REVIEW,
        "bulk_actions": [(action, ACTION_BUTTONS[action]) for action in BULK_ACTIONS],
        "bulk_possible": any(item.bulk_actionable for item in page),
        # Where a decision sends the moderator back to: this very page, as they see it.
        "here": _queue_address(params),
        "params": params,
        "filters": filters,
        "claim_minutes": claims.CLAIM_MINUTES,
    }


def _filter_query(data):
    """The filters as a query string (``?status=…``, or empty), for the next-item and review links."""
    kept = {name: value for name, value in data.items() if value}
    return f"?{urlencode(kept)}" if kept else ""


def _queue_address(params):
    """The queue's address with ``params`` (a QueryDict): its filters and cursor."""
    query = params.urlencode()
    return reverse("annotations:moderation_queue") + (f"?{query}" if query else "")


@require_GET
@_moderators_only
def queue(request):
    """The critiques and replies waiting for a decision, oldest first."""
    return render(request, "annotations/moderation/queue.html", _queue_context(request, request.GET))


def _review_context(request, pk, params, failure=None):
    """One item's review page; opening it claims the item for the moderator unless another holds it."""
    form = QueueFilterForm(params)
    form.is_valid()
    # The queue's own query, narrowed to one item: the same context, flags and record, in the same queries.
    item = get_object_or_404(queue_items({"status": ALL}), pk=pk)
    now = timezone.now()
    _prepare(item, request.user, now)
    claim = None
    if not item.is_own and item.actions:
        claim = claims.claim_for_review(item, request.user)
        item.held_by = claim if claim.moderator_id != request.user.pk else None
        item.held_text = claims.holder_text(item.held_by) if item.held_by else ""
    _with_failure(item, failure)
    filters = _filter_query(form.cleaned_data)
    return {
        "item": item,
        "claim": claim if claim is not None and claim.moderator_id == request.user.pk else None,
        "events": list(item.events.select_related("actor").order_by("created", "pk")),
        "filters": filters,
        "queue_address": reverse("annotations:moderation_queue") + filters,
        "next_address": reverse("annotations:moderation_next") + filters,
        # "Next item" passes over this one, giving up its claim; a decision's "next" has nothing to pass over.
        "skip_address": reverse("annotations:moderation_next")
        + (f"{filters}&" if filters else "?")
        + f"skip={item.pk}",
    }


@require_GET
@_moderators_only
def review(request, pk):
    """One item, claimed for review, with its history and the change it proposes."""
    return render(request, "annotations/moderation/review.html", _review_context(request, pk, request.GET))


@require_GET
@_moderators_only
def next_item(request):
    """
    The oldest waiting item no other moderator holds, not one's own, claimed
    and opened; the queue's filters narrow the choice and are kept.
    """
    form = QueueFilterForm(request.GET)
    form.is_valid()
    filters = _filter_query(form.cleaned_data)
    skip = id_from(request.GET.get("skip", ""))
    claim = claims.next_free(queue_filter(form.cleaned_data), request.user, skip=skip)
    if claim is None:
        messages.info(
            request,
            "Nothing is free to review here: what waits is your own, or being reviewed by another moderator.",
        )
        return redirect(reverse("annotations:moderation_queue") + filters)
    return redirect(reverse("annotations:moderation_review", args=[claim.critique_id]) + filters)


def _back_to_queue(request):
    """The queue page the moderator came from, filters kept; never another site."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("annotations:moderation_queue")


def _error_text(error, fields=True):
    if fields and hasattr(error, "message_dict"):
        return " ".join(
            f"{field.replace('_', ' ').capitalize()}: {' '.join(texts)}" for field, texts in error.message_dict.items()
        )
    return " ".join(error.messages)


def _failure_page(request, critique, action, reason, message, status):
    """
    A single decision that failed, answered in place: the page the moderator
    decided from (the queue with its filters and cursor, or the item's review
    page) rendered again, the error by the item and named after it, their
    reason still in its box, focus on it. Nothing was changed.
    """
    failure = {"pk": critique.pk, "message": f"{item_name(critique)}: {message}", "reason": reason, "action": action}
    back = urlsplit(request.POST.get("next", ""))
    params = QueryDict(back.query)
    if request.POST.get("shown_on") == "review":
        context = _review_context(request, critique.pk, params, failure)
        return render(request, "annotations/moderation/review.html", context, status=status)
    context = _queue_context(request, params, failure)
    if not any(item.pk == critique.pk for item in context["page"]):
        # The item has left this page of the queue (another moderator decided it): say so at the top.
        messages.warning(request, failure["message"])
    return render(request, "annotations/moderation/queue.html", context, status=status)


def _lowercase_first(text):
    return text[:1].lower() + text[1:]


def _decide_one(request, critique, action, reason, expected):
    """One item's decision from its own form: success goes back (Post/Redirect/Get), failure is shown in place."""
    try:
        services.critique_decide(
            critique, moderator=request.user, action=action, reason=reason, expected_status=expected
        )
    except ValidationError as error:
        return _failure_page(request, critique, action, reason, _lowercase_first(_error_text(error, fields=False)), 400)
    except services.AlreadyDecided as error:
        message = f"it was already decided: it is now “{error.critique.get_status_display()}”; nothing was changed."
        return _failure_page(request, critique, action, reason, message, 409)
    except claims.ClaimHeld as error:
        message = f"{_lowercase_first(claims.holder_text(error.claim))}; your decision was not recorded."
        return _failure_page(request, critique, action, reason, message, 409)
    except services.ModerationConflict as error:
        message = (
            f"it is “{error.critique.get_status_display()}”: {ACTION_BUTTONS[action].lower()} is not possible now."
        )
        return _failure_page(request, critique, action, reason, message, 409)
    except PermissionDenied:
        return _failure_page(request, critique, action, reason, "your own; another moderator must decide.", 403)
    except DatabaseError:
        logger.exception("decision on critique %s failed", critique.pk)
        message = "could not be decided just now; nothing was changed. Try it again."
        return _failure_page(request, critique, action, reason, message, 503)
    noun = "Reply" if critique.is_reply else "Critique"
    messages.success(request, f"{noun} {critique.pk}: {Action(action).label.lower()}.")
    return _back_to_queue(request)


@require_POST
@_moderators_only
def decide(request):
    """
    Record a decision on one critique, or the same decision on several.

    Each critique is decided by its own ``critique_decide`` call (one event
    each) with the status the moderator saw, sent as ``expected_<id>`` or, for
    a single item's own form, ``expected_status``. A single item's failure is
    shown on the page it came from (``_failure_page``); a bulk decision's
    outcomes are listed on the queue it returns to.
    """
    action = request.POST.get("action", "")
    if action not in DECISIONS:
        messages.error(request, "Choose a decision: " + ", ".join(ACTION_BUTTONS[a].lower() for a in DECISIONS) + ".")
        return _back_to_queue(request)
    ids = request.POST.getlist("critique")
    single = len(ids) == 1 and id_from(ids[0]) and request.POST.get("expected_status")
    if single:
        critique = Critique.entries.filter(pk=id_from(ids[0])).first()
        if critique is not None:
            return _decide_one(request, critique, action, request.POST.get("reason", ""), single)
    # Check the reason once, before anything changes, so a bulk decision is all or nothing on that count.
    try:
        reason = services.clean_decision_reason(action, request.POST.get("reason", ""))
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return _back_to_queue(request)
    if not ids:
        messages.error(request, "Select at least one critique.")
        return _back_to_queue(request)
    if not all(id_from(value) for value in ids) or len(ids) > ITEMS_PER_PAGE:
        messages.error(request, "The selection was not understood; reload the queue and try again.")
        return _back_to_queue(request)

    critiques = Critique.entries.in_bulk([id_from(value) for value in ids])
    decided, already, refused, errors = [], [], [], []
    for pk in dict.fromkeys(id_from(value) for value in ids):
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
        except claims.ClaimHeld as error:
            errors.append(f"{item_name(critique)}: {_lowercase_first(claims.holder_text(error.claim))}; not decided.")
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
