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

from .models import Document
from .services import revision_create

SEED_DIR = Path(settings.BASE_DIR) / "fixtures" / "seed"
METADATA_FIELDS = [
    "slug", "title", "kind", "language", "author", "site", "original_url",
    "published", "captured", "rights", "notes",
]


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
            metadata = {field: entry.get(field, "") for field in METADATA_FIELDS}
            document = Document.objects.select_related("current_revision").filter(slug=entry["slug"]).first()
            if document is None:
                document = Document(**metadata)
                document.full_clean(exclude=["current_revision"])
                document.save()
            for number, spec in enumerate(entry["revisions"], start=1):
                if number <= document.revision_count:
                    continue
                revision_create(
                    document,
                    text=read_seed_text(seed_dir, spec["file"]),
                    summary=spec["summary"],
                    base_revision=number - 1,
                    user=user,
                )
                recorded += 1
    return recorded
