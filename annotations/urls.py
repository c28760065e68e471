"""The site's pages about critiques: the annotated reading pages, a critique's own pages, search and moderation."""

from django.urls import path

from annotations.critiques import replies as reply_views
from annotations.critiques import views as critique_views
from annotations.inbox import views as inbox_views
from annotations.moderation import views as moderation_views
from annotations.reading import views as reading_views

app_name = "annotations"

urlpatterns = [
    path(
        "documents/<slug:slug>/revisions/<int:number>/critiques/", reading_views.critique_create, name="critique_create"
    ),
    path("critiques/<int:pk>/", critique_views.critique_detail, name="critique"),
    path("critiques/<int:pk>/note/", reading_views.critique_note, name="critique_note"),
    path("critiques/<int:pk>/edit/", critique_views.critique_edit, name="critique_edit"),
    path("critiques/<int:pk>/versions/<int:number>/", critique_views.critique_version, name="critique_version"),
    path("critiques/<int:pk>/withdraw/", critique_views.critique_withdraw, name="critique_withdraw"),
    path("critiques/<int:pk>/flag/", critique_views.critique_flag, name="critique_flag"),
    path("critiques/<int:pk>/replies/", reply_views.reply_create, name="reply_create"),
    path("critiques/<int:pk>/reattach/", reading_views.critique_reattach, name="critique_reattach"),
    path("me/critiques/", critique_views.my_critiques, name="my_critiques"),
    path("me/notifications/", inbox_views.inbox, name="inbox"),
    path("me/notifications/read/", inbox_views.mark_all_read, name="notifications_read"),
    path("me/notifications/<int:pk>/read/", inbox_views.mark_read, name="notification_read"),
    path("me/notifications/settings/", inbox_views.notification_settings, name="notification_settings"),
    path("search/", reading_views.search, name="search"),
    path("moderation/", moderation_views.queue, name="moderation_queue"),
    path("moderation/decide/", moderation_views.decide, name="moderation_decide"),
    path("moderation/next/", moderation_views.next_item, name="moderation_next"),
    path("moderation/critiques/<int:pk>/", moderation_views.review, name="moderation_review"),
]
