"""
A critique as a W3C Web Annotation (https://www.w3.org/TR/annotation-model/).

A critique is an ``Annotation`` motivated by ``assessing``. Its bodies are a
classifying TextualBody (the category code), a commenting TextualBody (the
Markdown explanation) and one linking SpecificResource per piece of evidence
(a web page, or a bibliographic reference: see ``_evidence_body``);
its target is the revision permalink it was written on, with a
TextQuoteSelector and a TextPositionSelector (offsets in code points).

A reply is an ``Annotation`` motivated by ``replying``: its bodies are the
commenting TextualBody and its evidence, and its target is the IRI of the
critique it answers (as Hypothesis and the model's own example 44 do).
"""

import re
from datetime import UTC
from urllib.parse import quote

from django.urls import reverse
from rest_framework import exceptions, renderers

from annotations.evidence import REFERENCE, citation_text, doi_url, evidence_shown
from annotations.models import Category
from annotations.visibility import etag_parts, shown_version
from archive.http import strong_etag
from config.api import JSONParser

W3C_PROFILE = "http://www.w3.org/ns/anno.jsonld"
LDP_CONTEXT = "http://www.w3.org/ns/ldp.jsonld"
JSONLD_MEDIA_TYPE = f'application/ld+json; profile="{W3C_PROFILE}"'
PREFER_IRIS = "http://www.w3.org/ns/oa#PreferContainedIRIs"
PREFER_DESCRIPTIONS = "http://www.w3.org/ns/oa#PreferContainedDescriptions"
PREFER_MINIMAL = "http://www.w3.org/ns/ldp#PreferMinimalContainer"
ANNOTATION_LINK = '<http://www.w3.org/ns/ldp#Resource>; rel="type"'
CONTAINER_HEADERS = {
    "Link": '<http://www.w3.org/ns/ldp#BasicContainer>; rel="type", '
    '<http://www.w3.org/TR/annotation-protocol/>; rel="http://www.w3.org/ns/ldp#constrainedBy"',
    "Allow": "GET, HEAD, OPTIONS, POST",
    "Accept-Post": JSONLD_MEDIA_TYPE,
}
ANNOTATION_ALLOW = "GET, HEAD, OPTIONS, PUT, DELETE"
PAGE_SIZE = 20
CATEGORY_LIST = ", ".join(Category.values)
MOTIVATION = "assessing"
REPLY_MOTIVATION = "replying"
ISBN_URN = "urn:isbn:"
# Markdown's backslash-escapable characters (Python-Markdown's list): plain text escapes them all.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()>#+\-.!])")


class AnnotationJSONLDRenderer(renderers.JSONRenderer):
    """
    JSON-LD with the Web Annotation profile. The media type carries no
    parameter, because DRF only matches a renderer whose parameters all appear
    in the Accept header: this way ``application/ld+json`` is served with or
    without ``profile``. Successful responses still name the profile.
    """

    media_type = "application/ld+json"
    format = "jsonld"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        # DRF has set Content-Type before rendering; an error body is not an annotation, so no profile.
        if response is not None and response.status_code < 400:
            response["Content-Type"] = JSONLD_MEDIA_TYPE
        return super().render(data, accepted_media_type, renderer_context)


class AnnotationJSONLDParser(JSONParser):
    media_type = "application/ld+json"


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = "Send If-Match with the ETag you last read, so no one else's change is overwritten."
    default_code = "precondition_required"


class PreconditionFailed(exceptions.APIException):
    status_code = 412
    default_detail = "The annotation changed since you read it: GET it again and reapply your change."
    default_code = "precondition_failed"


# Representation


def annotation_iri(request, slug, pk):
    """An annotation's IRI, inside its document's container as the protocol asks (section 4)."""
    return request.build_absolute_uri(reverse("w3c-annotation", args=[slug, pk]))


def revision_iri(request, slug, number):
    return request.build_absolute_uri(reverse("revision", args=[slug, number]))


def container_iri(request, slug):
    return request.build_absolute_uri(reverse("api-annotation-container", args=[slug]))


def _fragment_text(text):
    # A text directive's own separators ("-", ",", "&") must be escaped inside its parts.
    return quote(text, safe="").replace("-", "%2D")


def passage_iri(revision_url, exact, prefix="", suffix=""):
    """
    The revision's IRI with a text fragment naming the passage
    (``#:~:text=prefix-,exact,-suffix``): the target of an annotation filed
    as one IRI, and what browsers scroll to.
    """
    directive = _fragment_text(exact)
    if prefix:
        directive = f"{_fragment_text(prefix)}-,{directive}"
    if suffix:
        directive = f"{directive},-{_fragment_text(suffix)}"
    return f"{revision_url}#:~:text={directive}"


def timestamp(value):
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _evidence_body(citation, iri, number):
    """
    One citation as a linking SpecificResource (only a SpecificResource may
    carry ``purpose``). A web page is its source, ``{id: url, label: title}``.
    A reference's source is the work: ``id`` its DOI link, else its web
    address, else ``urn:isbn:…``, else this annotation's IRI with
    ``#source-n``; ``label`` the title, ``schema:author``,
    ``schema:datePublished``, ``schema:isbn``, ``schema:url``. The locator is
    the body's ``schema:pagination``, and ``schema:citation`` holds the whole
    reference as a plain-text TextualBody. ``schema`` is a prefix of the
    annotation context; the note is ``schema:description``.
    """
    item = evidence_shown(citation)
    body = {"type": "SpecificResource", "purpose": "linking"}
    if item["kind"] != REFERENCE:
        body["source"] = {"id": item["url"], "label": item["title"]}
    else:
        if item["doi"]:
            work = doi_url(item["doi"])
        elif item["url"]:
            work = item["url"]
        elif item["isbn"]:
            work = f"{ISBN_URN}{item['isbn']}"
        else:
            work = f"{iri}#source-{number}"
        source = {
            "id": work,
            "type": "Text",
            "label": item["title"],
            "schema:author": item["author"],
            "schema:datePublished": item["year"],
        }
        for field, term in (("isbn", "schema:isbn"), ("url", "schema:url")):
            if item[field]:
                source[term] = item[field]
        body["source"] = source
        body["schema:pagination"] = item["locator"]
        body["schema:citation"] = {"type": "TextualBody", "format": "text/plain", "value": citation_text(item)}
    if item["note"]:
        body["schema:description"] = item["note"]
    return body


def _bodies(version, iri):
    # Critiques don't record their language (the document's is the source's, not the critic's).
    bodies = [{"type": "TextualBody", "purpose": "commenting", "value": version.body, "format": "text/markdown"}]
    if version.category:  # a reply has none
        # A code, not prose: no language. An ``id`` would make it an External Web Resource,
        # which may not carry a purpose, so the category is a value.
        category = {"type": "TextualBody", "purpose": "classifying", "value": version.category, "format": "text/plain"}
        bodies.insert(0, category)
    bodies.extend(_evidence_body(citation, iri, number) for number, citation in enumerate(version.evidence, start=1))
    return bodies


def annotation_representation(request, annotation, *, context=True):
    """
    The critique as a W3C Annotation, in the wording ``request.user`` may read.
    The caller has checked ``can_see``. Items of a page leave out ``@context``.
    """
    version = shown_version(request.user, annotation)
    iri = annotation_iri(request, annotation.document.slug, annotation.pk)
    data = {"@context": W3C_PROFILE} if context else {}
    data.update(
        {
            "id": iri,
            "type": "Annotation",
            "motivation": MOTIVATION,
            "creator": {"type": "Person", "nickname": annotation.author.get_username()},
            "created": timestamp(annotation.created),
            # When the wording shown was written: a moderator's decision changes no content.
            "modified": timestamp(version.created),
            "body": _bodies(version, iri),
        }
    )
    # As its client filed it: the canonical IRI it gave, and the id its copy had (the protocol, 5.2).
    for field in ("canonical", "via"):
        if getattr(annotation, field):
            data[field] = getattr(annotation, field)
    if annotation.is_reply:
        data.update(
            motivation=REPLY_MOTIVATION, target=annotation_iri(request, annotation.document.slug, annotation.parent_id)
        )
        return data
    source = revision_iri(request, annotation.document.slug, annotation.revision.number)
    if annotation.target_as_iri:
        data["target"] = passage_iri(source, annotation.exact, annotation.prefix, annotation.suffix)
        return data
    data.update(
        {
            "target": {
                "source": source,
                "selector": [
                    {
                        "type": "TextQuoteSelector",
                        "exact": annotation.exact,
                        "prefix": annotation.prefix,
                        "suffix": annotation.suffix,
                    },
                    {"type": "TextPositionSelector", "start": annotation.start, "end": annotation.end},
                ],
            },
        }
    )
    return data


def annotation_etag(annotation, user=None):
    """
    A strong ETag of the annotation as ``user`` sees it (``etag_parts``): a
    reader's changes only with the published wording, the author's and
    moderators' with every change. ``None`` is the author's view, which every
    write (PUT, DELETE, POST) is made in.
    """
    if user is None:
        return strong_etag(*etag_parts(None, annotation, latest=True))
    return strong_etag(*etag_parts(user, annotation))


def annotation_headers(annotation, user=None):
    """The Web Annotation Protocol's headers for one annotation."""
    return {
        "ETag": annotation_etag(annotation, user),
        "Link": ANNOTATION_LINK,
        "Allow": ANNOTATION_ALLOW,
    }
