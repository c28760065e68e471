from django.apps import AppConfig
from django.db.models.signals import post_save


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = "Archive"

    def ready(self):
        from . import changes, search
        from .models import Document
        from .signals import documents_created, revision_recorded

        revision_recorded.connect(search.reindex_recorded_revision, sender=Document, dispatch_uid="archive-search")
        documents_created.connect(search.index_new_documents, sender=Document, dispatch_uid="archive-search")
        post_save.connect(search.reindex_saved_document, sender=Document, dispatch_uid="archive-search")
        revision_recorded.connect(changes.note_change_signal, sender=Document, dispatch_uid="archive-changes")
        post_save.connect(changes.note_change_signal, sender=Document, dispatch_uid="archive-changes")
