"""A critique's citation (``archive.citations``), in the wording the viewer reads: the page and the API share it."""

from django.urls import reverse

from annotations.models import Category
from annotations.visibility import shown_version
from archive import citations


def critique_citation_item(request, critique):
    """The CSL-JSON item citing ``critique``, which ``request.user`` may see, as they read it."""
    version = shown_version(request.user, critique)
    version.critique = critique  # its passage defaults to the critique's own
    if critique.is_reply:
        label = f"Reply to critique {critique.parent_id}"
    else:
        label = Category(version.category).label
    url = request.build_absolute_uri(critique.get_absolute_url())
    return citations.critique_item(critique, version, url, label)


def critique_citation(request, critique):
    """The critique page's "Cite this critique": its references, downloads and meta tags."""
    item = critique_citation_item(request, critique)
    download_url = reverse("api-critique-detail", args=[critique.pk])
    return citations.citation_panel(item, download_url, unpublished=not critique.is_public)
