from django.urls import path

from annotations.moderation import views as moderation_views
from annotations.reading import views

app_name = "annotations"

urlpatterns = [
    path("documents/<slug:slug>/", views.reading_current, name="document"),
    path("documents/<slug:slug>/revisions/<int:number>/", views.reading_revision, name="revision"),
    path("documents/<slug:slug>/revisions/<int:number>/critiques/", views.critique_create, name="critique_create"),
    path("critiques/<int:pk>/", views.critique_detail, name="critique"),
    path("critiques/<int:pk>/edit/", views.critique_edit, name="critique_edit"),
    path("critiques/<int:pk>/withdraw/", views.critique_withdraw, name="critique_withdraw"),
    path("critiques/<int:pk>/flag/", views.critique_flag, name="critique_flag"),
    path("critiques/<int:pk>/reattach/", views.critique_reattach, name="critique_reattach"),
    path("me/critiques/", views.my_critiques, name="my_critiques"),
    path("search/", views.search, name="search"),
    path("moderation/", moderation_views.queue, name="moderation_queue"),
    path("moderation/decide/", moderation_views.decide, name="moderation_decide"),
]
