"""
Signals the archive sends. Other apps listen; the archive knows nothing of them.

``revision_recorded`` is sent inside the transaction that records a revision,
with ``sender=Document``, ``document``, ``revision`` and ``previous`` (the
revision it replaced as current, or None). A receiver that raises rolls the
revision back, so listeners keep their work consistent with the revision.

``documents_created`` is sent once by ``services.documents_create`` (an
import's batch of new documents) in place of a ``revision_recorded`` for each
first revision, so that a listener may do its work for the whole batch at
once: ``sender=Document``, ``documents`` and their ``revisions``, in the same
order. A receiver that raises rolls the whole batch back.
"""

from django.dispatch import Signal

revision_recorded = Signal()
documents_created = Signal()
