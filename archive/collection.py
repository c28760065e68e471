"""
The seed collection: the archive's first documents, shipped in
``fixtures/seed/``. ``collection.json`` lists each document's metadata and
its revisions in order (the capture as received, then the reading text).

Loading is idempotent: a document gets only the revisions it doesn't have
yet, so running it twice changes nothing.
"""

import json
from pathlib import Path

from django.conf import settings
from django.db import transaction

from .former_slugs import document_named
from .models import Document
from .services import METADATA_FIELDS, document_create, document_update

SEED_DIR = Path(settings.BASE_DIR) / "fixtures" / "seed"


def read_collection(seed_dir=SEED_DIR):
    with open(seed_dir / "collection.json", encoding="utf-8") as manifest:
        return json.load(manifest)


def read_seed_text(seed_dir, name):
    # newline="" keeps the bytes as received; revision_create normalises line ends.
    with open(seed_dir / name, encoding="utf-8", newline="") as handle:
        return handle.read()


def load_seed_collection(seed_dir=SEED_DIR, user=None):
    """Create the seed documents and any revisions they lack. Returns the count recorded."""
    recorded = 0
    for entry in read_collection(seed_dir):
        with transaction.atomic():
            document = document_named(Document.objects.select_related("current_revision"), entry["slug"])
            revisions = entry["revisions"]
            if document is None:
                metadata = {field: entry.get(field, "") for field in METADATA_FIELDS}
                first = revisions[0]
                document = document_create(
                    text=read_seed_text(seed_dir, first["file"]),
                    summary=first["summary"],
                    user=user,
                    **metadata,
                )
                recorded += 1
            # An existing document keeps its metadata: loading only adds the revisions it lacks.
            for number, spec in enumerate(revisions, start=1):
                if number <= document.revision_count:
                    continue
                document_update(
                    document,
                    text=read_seed_text(seed_dir, spec["file"]),
                    summary=spec["summary"],
                    base_revision=number - 1,
                    user=user,
                )
                recorded += 1
    return recorded
