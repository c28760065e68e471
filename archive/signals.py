"""
Signals the archive sends. Other apps listen; the archive knows nothing of them.

``revision_recorded`` is sent inside the transaction that records a revision,
with ``sender=Document``, ``document``, ``revision`` and ``previous`` (the
revision it replaced as current, or None). A receiver that raises rolls the
revision back, so listeners keep their work consistent with the revision.
"""

from django.dispatch import Signal

revision_recorded = Signal()
