"""
Public pages of the archive: home, the document list, reading pages,
revision history, revision permalinks and diffs. Each page runs a fixed
number of SQL queries whatever the size of the document or its history.
"""

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from .badges import attach_badges
from .forms import DiffForm, DocumentFilterForm
from .immutable import diff_of, immutable_preconditions, mark_immutable, revisions_tag
from .models import Document, DocumentKind, Revision
from .search import SearchPaginator, documents_index, quote_passages, search_documents

DOCUMENTS_PER_PAGE = 25
REVISIONS_PER_PAGE = 100


def _listed_documents():
    # The list never needs revision texts: leave them in the database.
    return Document.objects.select_related("current_revision").defer("notes", "current_revision__text")


def home(request):
    documents = attach_badges(request, _listed_documents().order_by("title")[:50])
    return render(request, "archive/home.html", {"documents": documents})


def document_list(request):
    form = DocumentFilterForm(request.GET or None)
    documents = _listed_documents().order_by("title", "pk")
    query = ""
    if form.is_valid():
        data = form.cleaned_data
        if data["kind"]:
            documents = documents.filter(kind=data["kind"])
        if data["language"]:
            documents = documents.filter(language__iexact=data["language"])
        query = data["q"].strip()
    if query:
        # One query ranks, counts and quotes the page; its rows are then read by key.
        paginator = SearchPaginator(
            search_documents(documents, query),
            DOCUMENTS_PER_PAGE,
            index=documents_index,
            query=query,
            rows=_listed_documents(),
            with_text=True,
        )
    else:
        paginator = Paginator(documents, DOCUMENTS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = attach_badges(request, page.object_list)
    if query:
        quote_passages(page.object_list)
    languages = Document.objects.exclude(language="").order_by("language").values_list("language", flat=True).distinct()
    return render(
        request,
        "archive/document_list.html",
        {"form": form, "page": page, "query": query, "kinds": DocumentKind.choices, "languages": languages},
    )


def revision_history(request, slug):
    document = get_object_or_404(
        Document.objects.select_related("current_revision").defer("current_revision__text"), slug=slug
    )
    revisions = document.revisions.select_related("created_by").without_text().order_by("-number")
    page = Paginator(revisions, REVISIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "archive/revision_history.html", {"document": document, "page": page})


def revision_text(request, slug, number):
    """
    A revision's text alone, as plain text: immutable (archive.immutable). The
    address names one text forever: a document with revisions is never
    deleted, and a slug it gave up stays its own (archive.former_slugs).
    """
    revision = get_object_or_404(Revision.objects.only("pk", "sha256", "text"), document__slug=slug, number=number)
    etag = revisions_tag(revision, representation="text")
    unchanged = immutable_preconditions(request, etag)
    if unchanged is not None:
        return mark_immutable(request, unchanged, etag)
    return mark_immutable(request, HttpResponse(revision.text, content_type="text/plain; charset=utf-8"), etag)


def revision_diff(request, slug):
    document = get_object_or_404(
        Document.objects.select_related("current_revision").defer("current_revision__text"), slug=slug
    )
    count = document.revision_count
    if "from" in request.GET or "to" in request.GET:
        form = DiffForm(request.GET)
        if not form.is_valid():
            # A page like every other refusal (invalid_input.html), so it reads as part of the site.
            field = next(iter(form.errors)).rstrip("_")
            reason = f"give two revision numbers, ?from=A&to=B, each a whole number from 1 to {count}."
            return render(request, "invalid_input.html", {"field": field, "reason": reason}, status=400)
        old_number, new_number = form.cleaned_data["from_"], form.cleaned_data["to"]
    else:
        old_number, new_number = max(count - 1, 1), count
        form = DiffForm({"from": old_number, "to": new_number})
        form.is_valid()
    # The texts stay in the database unless the pair's diff was never computed (archive.immutable).
    revisions = {r.number: r for r in document.revisions.filter(number__in=[old_number, new_number]).defer("text")}
    if old_number not in revisions or new_number not in revisions:
        return render(
            request,
            "404.html",
            {"message": f"{document.title} has revisions 1 to {count}."},
            status=404,
        )
    old, new = revisions[old_number], revisions[new_number]
    return render(
        request,
        "archive/revision_diff.html",
        {
            "document": document,
            "old": old,
            "new": new,
            "diff": diff_of(old, new),
            "numbers": range(1, count + 1),
        },
    )
