"""
The archivists' workplace. Documents are edited with their metadata and the
text of a new revision; revisions themselves are read-only. A new document is
made by ``document_create``, and every save of one by ``document_update``, like
every other write.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.html import format_html

from .forms import DocumentAdminForm
from .models import Document, Revision
from .services import METADATA_FIELDS, RevisionConflict, document_create, document_update


class RevisionInline(admin.TabularInline):
    model = Revision
    fields = ["number_link", "summary", "created_by", "created", "length", "sha256"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    ordering = ["-number"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by", "document").defer("text")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="revision")
    def number_link(self, revision):
        return format_html('<a href="{}">{}</a>', revision.get_absolute_url(), revision.number)


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    form = DocumentAdminForm
    list_display = ["title", "kind", "language", "author", "site", "revision_number", "updated"]
    list_filter = ["kind", "language"]
    search_fields = ["title", "author", "site", "slug"]
    list_select_related = ["current_revision"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [RevisionInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "kind", "language"]}),
        ("Provenance", {"fields": ["author", "site", "original_url", "published", "captured", "rights", "notes"]}),
        ("Text", {"fields": ["new_text", "edit_summary", "base_revision"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("current_revision__text")

    def get_object(self, request, object_id, from_field=None):
        # The form needs the current text to offer it for editing. The admin runs
        # a POST to the change view in a transaction: locking there makes the
        # form's check of the base revision race-free. GET pages (the form, the
        # history) run outside one, where PostgreSQL refuses SELECT … FOR UPDATE.
        documents = Document.objects.select_related("current_revision")
        if request.method == "POST":
            documents = documents.select_for_update(of=("self",))
        try:
            return documents.filter(pk=object_id).first()
        except (ValueError, ValidationError):
            return None

    @admin.display(description="revisions", ordering="current_revision__number")
    def revision_number(self, document):
        return document.revision_count

    def has_delete_permission(self, request, obj=None):
        # Documents with history are never deleted; the revisions protect them anyway.
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        metadata = {field: data[field] for field in METADATA_FIELDS if field in data}
        try:
            if change:
                revision = document_update(
                    obj,
                    user=request.user,
                    base_revision=data.get("base_revision") or 0,
                    text=data["new_text"],
                    summary=data["edit_summary"],
                    **metadata,
                ).revision
            else:
                document = document_create(
                    text=data["new_text"],
                    summary=data["edit_summary"],
                    user=request.user,
                    **metadata,
                )
                # The admin goes on with the form's instance (the log entry, the redirect).
                obj.pk = document.pk
                obj.refresh_from_db()
                obj._state.adding = False
                revision = document.current_revision
        except (RevisionConflict, ValidationError) as error:
            # A writer slipped in after validation: nothing was written; drop the log entry too.
            transaction.set_rollback(True)
            messages.error(request, f"Nothing was saved: {error}")
            return
        if revision is None:
            messages.info(request, "The text is unchanged: no new revision was recorded.")
        else:
            messages.success(request, f"Recorded revision {revision.number}.")


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ["document", "number", "summary", "created_by", "created"]
    list_select_related = ["document", "created_by"]
    list_filter = ["document__kind"]
    search_fields = ["document__title", "summary"]
    fields = ["document", "number", "parent", "summary", "created_by", "created", "length", "sha256", "text"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
