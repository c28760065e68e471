"""
Badges on listed documents (home, the document list, search results). The
archive lists documents but knows nothing of what other apps keep about
them; an app that has something to say registers a provider here (from its
``AppConfig.ready``), and the lists show its badges without importing it.

A provider is called with the request and one page of documents, and returns
``{document pk: [Badge, …]}``; it should cost one query for the whole page,
whatever its length.
"""

from typing import NamedTuple


class Badge(NamedTuple):
    text: str  # what the badge shows, e.g. a sign and a number
    label: str  # what it means, in words, for screen readers
    css_class: str = ""


_providers = []


def register(provider):
    """Add ``provider(request, documents)`` to the badges every document list shows."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def attach_badges(request, documents):
    """``documents`` as a list, each with ``badges``: what every provider says of it."""
    documents = list(documents)
    for document in documents:
        document.badges = []
    if documents:
        by_pk = {document.pk: document for document in documents}
        for provider in _providers:
            for pk, badges in provider(request, documents).items():
                by_pk[pk].badges.extend(badges)
    return documents
