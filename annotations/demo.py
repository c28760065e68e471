"""
Demo critiques for a local demonstration: real critiques of the seed
collection, filed by the demo scholar and, where marked, approved by the demo
moderator, through the same services as everything else.
"""

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from archive.models import Document

from .models import Action, Critique
from .services import critique_decide, critique_submit

DEMO_CRITIQUES = Path(settings.BASE_DIR) / "fixtures" / "demo_critiques.json"


def load_demo_critiques(path=DEMO_CRITIQUES, author_name="scholar", moderator_name="moderator"):
    """File each demo critique once; returns how many were filed."""
    User = get_user_model()
    author = User.objects.get(username=author_name)
    moderator = User.objects.get(username=moderator_name)
    filed = 0
    for entry in json.loads(path.read_text(encoding="utf-8")):
        document = Document.objects.select_related("current_revision").get(slug=entry["document"])
        if Critique.objects.filter(document=document, author=author, exact=entry["exact"]).exists():
            continue
        with transaction.atomic():
            critique = critique_submit(
                author=author,
                revision=document.current_revision,
                category=entry["category"],
                body=entry["body"],
                evidence=entry["evidence"],
                exact=entry["exact"],
            )
            if entry.get("approve"):
                critique_decide(critique, moderator=moderator, action=Action.APPROVE)
        filed += 1
    return filed
