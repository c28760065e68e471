from django.urls import path

from . import memento, views

app_name = "archive"

urlpatterns = [
    path("", views.home, name="home"),
    path("documents/", views.document_list, name="document_list"),
    path("documents/<slug:slug>/history/", views.revision_history, name="history"),
    path("documents/<slug:slug>/revisions/<int:number>/text/", views.revision_text, name="revision_text"),
    path("documents/<slug:slug>/diff/", views.revision_diff, name="diff"),
    path("documents/<slug:slug>/timegate/", memento.timegate, name="timegate"),
    path("documents/<slug:slug>/timemap/", memento.timemap, name="timemap"),
]
