from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = "Critiques"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import pre_save

        from archive import badges
        from archive.models import Document
        from archive.signals import revision_recorded
        from config import request_id

        from . import checks  # noqa: F401 (registers the deploy checks)
        from .badges import critique_badges
        from .receivers import carry_critiques_forward, note_username_change

        revision_recorded.connect(carry_critiques_forward, sender=Document, dispatch_uid="annotations-anchors")
        pre_save.connect(note_username_change, sender=get_user_model(), dispatch_uid="annotations-usernames")
        badges.register(critique_badges)
        # The tasks (annotations.tasks) run under the id of the request that enqueued them.
        request_id.follow_tasks()
