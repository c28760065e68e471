"""
Critiques in the admin: read-only. Moderation happens in the queue, where
every decision goes through ``critique_decide`` and leaves an event.
"""

from django.contrib import admin

from .models import Critique, CritiqueVersion, Flag, ModerationEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class VersionInline(admin.TabularInline):
    model = CritiqueVersion
    fields = ["number", "category", "body", "evidence", "created"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EventInline(VersionInline):
    model = ModerationEvent
    fields = ["created", "actor", "action", "from_status", "to_status", "reason"]
    readonly_fields = fields


@admin.register(Critique)
class AnnotationAdmin(ReadOnlyAdmin):
    list_display = ["pk", "document", "revision_number", "author", "status", "parent", "created"]
    list_filter = ["status"]
    list_select_related = ["document", "revision", "author", "parent"]
    search_fields = ["exact", "author__username", "document__title"]
    fields = [
        "document",
        "revision",
        "author",
        "parent",
        "exact",
        "prefix",
        "suffix",
        "start",
        "end",
        "status",
        "created",
        "modified",
    ]
    readonly_fields = fields
    inlines = [VersionInline, EventInline]

    @admin.display(description="revision")
    def revision_number(self, critique):
        return critique.revision.number


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ["critique", "user", "reason", "created", "resolved"]
    list_select_related = ["critique", "user"]
