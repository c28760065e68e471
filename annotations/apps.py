from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = "Critiques"

    def ready(self):
        from archive import badges
        from archive.models import Document
        from archive.signals import revision_recorded
        from config import request_id

        from . import checks  # noqa: F401 (registers the deploy checks)
        from .badges import critique_badges
        from .receivers import carry_critiques_forward

        revision_recorded.connect(carry_critiques_forward, sender=Document, dispatch_uid="annotations-anchors")
        badges.register(critique_badges)
        # The tasks (annotations.tasks) run under the id of the request that enqueued them.
        request_id.follow_tasks()
