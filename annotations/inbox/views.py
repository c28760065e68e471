"""
A user's inbox (``/me/notifications/``): what moderators decided on their
critiques and replies, and replies to their critiques, newest first, with
marking read; and the page choosing which of them also come by email. What a
notification says is ``annotations.notifications.describe``'s.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from annotations import notifications
from annotations.models import Notification, NotificationPreference

NOTIFICATIONS_PER_PAGE = 25


def _inbox_url(page):
    """The inbox at the page the form was sent from (a page number, or the first page)."""
    url = reverse("annotations:inbox")
    number = int(page) if page and page.isascii() and page.isdigit() else 1
    return f"{url}?page={number}" if number > 1 else url


@login_required
@require_GET
def inbox(request):
    entries = (
        Notification.objects.filter(recipient=request.user)
        .select_related("event__critique__document", "event__critique__author")
        # What an entry shows: the critique, its document (not its notes) and author.
        .defer("event__critique__document__notes")
        .order_by("-created", "-pk")
    )
    page = Paginator(entries, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    published = notifications.published_before(notification.event for notification in page)
    rows = [
        {"notification": notification, "told": notifications.describe(notification, published[notification.event_id])}
        for notification in page
    ]
    return render(request, "annotations/inbox.html", {"page": page, "rows": rows})


@login_required
@require_POST
def mark_read(request, pk):
    """Mark one of one's own notifications read; anyone else's does not exist here."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    Notification.objects.filter(pk=notification.pk, read__isnull=True).update(read=timezone.now())
    return redirect(_inbox_url(request.POST.get("page")))


@login_required
@require_POST
def mark_all_read(request):
    marked = Notification.objects.filter(recipient=request.user, read__isnull=True).update(read=timezone.now())
    messages.success(request, f"{marked} notification{'s' if marked != 1 else ''} marked read.")
    return redirect(_inbox_url(request.POST.get("page")))


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["email_decisions", "email_replies"]
        labels = {
            "email_decisions": "Email me moderators' decisions on my critiques and replies",
            "email_replies": "Email me replies to my critiques",
        }
        help_texts = {
            "email_decisions": "On unless you turn it off. Every decision is in your inbox either way.",
            "email_replies": "Off unless you turn it on. Every published reply is in your inbox either way.",
        }


@login_required
def notification_settings(request):
    current = notifications.preferences(request.user.pk)
    form = PreferenceForm(request.POST if request.method == "POST" else None, instance=current)
    if request.method == "POST" and form.is_valid():
        NotificationPreference.objects.update_or_create(user=request.user, defaults=form.cleaned_data)
        messages.success(request, "Your email preferences are saved.")
        return redirect("annotations:notification_settings")
    status = 400 if request.method == "POST" else 200
    return render(request, "annotations/notification_settings.html", {"form": form}, status=status)
