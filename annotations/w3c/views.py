"""
Critiques as W3C Web Annotations (https://www.w3.org/TR/annotation-model/)
and each document's critiques as a Web Annotation Protocol container
(https://www.w3.org/TR/annotation-protocol/).

A critique is an ``Annotation`` motivated by ``assessing``. Its bodies are a
classifying TextualBody (the category code), a commenting TextualBody (the
Markdown explanation) and one linking SpecificResource per piece of evidence;
its target is the revision permalink it was written on, with a
TextQuoteSelector and a TextPositionSelector (offsets in code points).

``/api/documents/{slug}/annotations/`` is the container: GET pages through
the critiques the caller may see (``visible_critiques``), POST files a new
one through ``critique_submit``. The critique's own address belongs to the
critiques API (``annotations.api.views``), which calls ``annotation_representation``
and ``annotation_put`` from here.
"""
import hashlib
import re
from datetime import timezone as dt_timezone
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Max
from django.shortcuts import get_object_or_404
from django.urls import Resolver404, resolve, reverse
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, renderers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from archive.models import Document, Revision
from config.api import JSONParser, error_responses

from annotations import services
from annotations.models import Critique, Category
from annotations.visibility import shown_version, visible_critiques

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
PAGE_SIZE = 20
CATEGORY_LIST = ", ".join(Category.values)
MOTIVATION = "assessing"
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

def annotation_iri(request, pk):
    return request.build_absolute_uri(reverse("api-critique-detail", args=[pk]))


def revision_iri(request, slug, number):
    return request.build_absolute_uri(reverse("annotations:revision", args=[slug, number]))


def container_iri(request, slug):
    return request.build_absolute_uri(reverse("api-annotation-container", args=[slug]))


def _timestamp(value):
    return value.astimezone(dt_timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _bodies(version):
    bodies = [
        # A code, not prose: no language. An ``id`` would make it an External Web Resource,
        # which may not carry a purpose, so the category is a value.
        {"type": "TextualBody", "purpose": "classifying", "value": version.category, "format": "text/plain"},
        # Critiques don't record their language (the document's is the source's, not the critic's).
        {"type": "TextualBody", "purpose": "commenting", "value": version.body, "format": "text/markdown"},
    ]
    for citation in version.evidence:
        # Only a SpecificResource may carry ``purpose``; the cited page is its source.
        evidence = {"type": "SpecificResource", "purpose": "linking",
                    "source": {"id": citation["url"], "label": citation["title"]}}
        if citation.get("note"):
            evidence["schema:description"] = citation["note"]  # "schema" is a prefix of the anno context
        bodies.append(evidence)
    return bodies


def annotation_representation(request, annotation, *, context=True):
    """
    The critique as a W3C Annotation, in the wording ``request.user`` may read.
    The caller has checked ``can_see``. Items of a page leave out ``@context``.
    """
    version = shown_version(request.user, annotation)
    data = {"@context": W3C_PROFILE} if context else {}
    data.update({
        "id": annotation_iri(request, annotation.pk),
        "type": "Annotation",
        "motivation": MOTIVATION,
        "creator": {"type": "Person", "nickname": annotation.author.get_username()},
        "created": _timestamp(annotation.created),
        # When the wording shown was written: a moderator's decision changes no content.
        "modified": _timestamp(version.created),
        "body": _bodies(version),
        "target": {
            "source": revision_iri(request, annotation.document.slug, annotation.revision.number),
            "selector": [
                {"type": "TextQuoteSelector", "exact": annotation.exact,
                 "prefix": annotation.prefix, "suffix": annotation.suffix},
                {"type": "TextPositionSelector", "start": annotation.start, "end": annotation.end},
            ],
        },
    })
    return data


def annotation_etag(annotation):
    """
    A strong ETag. Both the latest and the published version are in it, so it
    changes whenever the wording any reader is shown changes; ``modified``
    moves on every submission, edit and decision.
    """
    state = (f"{annotation.pk}:{annotation.status}:{annotation.version_id}:"
             f"{annotation.published_version_id}:{annotation.modified.isoformat()}")
    return f'"{hashlib.sha256(state.encode()).hexdigest()[:32]}"'


def annotation_headers(annotation):
    """The Web Annotation Protocol's headers for one annotation."""
    return {"ETag": annotation_etag(annotation), "Link": ANNOTATION_LINK,
            "Allow": "GET, HEAD, OPTIONS, PUT, DELETE"}


def _fetch(pk):
    return Critique.objects.select_related(
        "document", "revision", "author", "version", "published_version",
    ).defer("revision__text", "document__notes").get(pk=pk)


# Parsing a W3C annotation into the critique's fields

def _values(value):
    """A JSON-LD value that may be single or a list, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _single_string(value):
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value if isinstance(value, str) else None


def plain_text_as_markdown(text):
    """Plain text that Markdown renders as itself: special characters escaped, line breaks kept."""
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    text = MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return re.sub(r"(?<!\n)\n(?!\n)", "  \n", text)


def _evidence(body):
    source = body.get("source", body.get("id"))
    title = body.get("label")
    if isinstance(source, dict):
        title = source.get("label", title)
        source = source.get("id")
    # Anything but text is passed on as it is, for clean_evidence to refuse.
    title = _single_string(title) if isinstance(title, list) else title
    return {"url": source, "title": title, "note": body.get("schema:description", "")}


def parse_bodies(data, errors):
    """``{category, body, evidence}`` from the annotation's bodies; problems go to ``errors["body"]``."""
    messages = errors.setdefault("body", [])
    content = {"category": None, "body": None, "evidence": []}
    bodies = data.get("body")
    if isinstance(bodies, dict):
        bodies = [bodies]
    if not isinstance(bodies, list) or not bodies:
        messages.append("Give the bodies: a classifying TextualBody (the category), a commenting "
                        "TextualBody (the explanation) and linking SpecificResources (the evidence).")
    for number, body in enumerate(bodies if isinstance(bodies, list) else [], start=1):
        if not isinstance(body, dict):
            messages.append(f"Body {number} must be an object.")
            continue
        purposes = _values(body.get("purpose"))
        if "classifying" in purposes:
            if content["category"] is not None:
                messages.append("Give one classifying body: a critique has one category.")
            elif body.get("value") not in Category.values:
                messages.append(f"Body {number}: the classifying value must be one of: {CATEGORY_LIST}.")
            content["category"] = body.get("value")
        elif "commenting" in purposes or (not purposes and "value" in body):
            text, format_ = body.get("value"), _single_string(body.get("format", "text/markdown"))
            if content["body"] is not None:
                messages.append("Give one commenting body: the explanation.")
            elif not isinstance(text, str):
                messages.append(f"Body {number}: the explanation must be a string value.")
            elif format_ not in ("text/markdown", "text/plain"):
                messages.append(f"Body {number}: the format must be text/markdown or text/plain.")
            else:
                content["body"] = plain_text_as_markdown(text) if format_ == "text/plain" else text
        elif "linking" in purposes:
            content["evidence"].append(_evidence(body))
        else:
            messages.append(f"Body {number}: give a purpose: classifying, commenting or linking.")
    if content["category"] is None and bodies:
        messages.append(f"Give the category as a classifying TextualBody: one of {CATEGORY_LIST}.")
    if not messages:
        del errors["body"]
    return content


def _revision_of(request, document, source):
    """The revision ``source`` names: a revision permalink of ``document``, or its (current) reading page."""
    if isinstance(source, dict):
        source = source.get("id")
    if not isinstance(source, str) or not source:
        raise ValueError("Give the source: the permalink of the revision you critique.")
    parts = urlsplit(source)
    if parts.netloc and parts.netloc not in {request.get_host(), urlsplit(settings.SITE_URL).netloc}:
        raise ValueError("The source must be a page of this site.")
    try:
        match = resolve(parts.path)
    except Resolver404:
        match = None
    if not match or match.url_name not in {"revision", "document"} or match.kwargs["slug"] != document.slug:
        raise ValueError(f"The source must be a revision of this document: "
                         f"{reverse('annotations:revision', args=[document.slug, 1])} and on.")
    number = match.kwargs.get("number", document.revision_count)  # the reading page shows the current one
    revision = Revision.objects.without_text().filter(document=document, number=number).first()
    if revision is None:
        raise ValueError(f"This document has no revision {number}.")
    return revision


def parse_target(request, document, data, errors):
    """The revision and selector fields from the annotation's target; problems go to ``errors``."""
    target = data.get("target")
    if isinstance(target, list) and len(target) == 1:
        target = target[0]
    if not isinstance(target, dict):
        errors["target"] = ["Give one target: {source: a revision permalink, selector: [TextQuoteSelector]}."]
        return None
    fields = {}
    try:
        fields["revision"] = _revision_of(request, document, target.get("source"))
    except ValueError as error:
        errors["target.source"] = [str(error)]
    found, messages = {}, []
    for selector in _values(target.get("selector")):
        kind = _single_string(selector.get("type")) if isinstance(selector, dict) else None
        # Other kinds of selector describe the same passage: the two we understand are enough.
        if kind in {"TextQuoteSelector", "TextPositionSelector"}:
            if kind in found:
                messages.append(f"Give one {kind}.")
            found[kind] = selector
    quote, position = found.get("TextQuoteSelector"), found.get("TextPositionSelector")
    if quote is None:
        messages.append("Give a TextQuoteSelector with the exact passage (and prefix and suffix).")
    else:
        fields["exact"] = quote.get("exact")
        if not isinstance(fields["exact"], str) or not fields["exact"].strip():
            messages.append("The TextQuoteSelector's exact must be the quoted passage.")
        for key in ("prefix", "suffix"):
            fields[key] = quote.get(key) or ""
            if not isinstance(fields[key], str):
                messages.append(f"The TextQuoteSelector's {key} must be a string.")
    if position is not None:
        fields["start"], fields["end"] = position.get("start"), position.get("end")
        if not all(type(fields[key]) is int and fields[key] >= 0 for key in ("start", "end")):
            messages.append("The TextPositionSelector's start and end must be code point offsets ≥ 0.")
    if messages:
        errors["target.selector"] = messages
    return fields


# What the services call each field, and what it is in a W3C annotation.
SERVICE_FIELDS = {
    "category": ("body", "The classifying body: "),
    "body": ("body", "The commenting body: "),
    "evidence": ("body", "The linking bodies: "),
    "selector": ("target.selector", ""),
}


def w3c_errors(error):
    """A service's ValidationError with its fields renamed to the annotation's."""
    if not hasattr(error, "error_dict"):
        return error
    fields = {}
    for field, messages in error.message_dict.items():
        name, prefix = SERVICE_FIELDS.get(field, (field, ""))
        fields.setdefault(name, []).extend(prefix + message for message in messages)
    return ValidationError(fields)


def parse_annotation(request, document):
    """The critique's fields from the W3C annotation sent, or a ValidationError naming each bad field."""
    data = request.data
    if not isinstance(data, dict):
        raise ValidationError("Send one W3C annotation: a JSON object.")
    errors = {}
    if "type" in data and "Annotation" not in _values(data["type"]):
        errors["type"] = ['The type must be "Annotation".']
    content = parse_bodies(data, errors)
    target = parse_target(request, document, data, errors)
    if errors:
        raise ValidationError(errors)
    return content, target


# Editing through the protocol

def _check_if_match(request, annotation):
    # If-Match compares strongly: a weak tag never matches.
    tags = parse_etags(request.headers["If-Match"])
    if "*" not in tags and annotation_etag(annotation) not in tags:
        raise PreconditionFailed()


def annotation_put(request, annotation):
    """
    Replace a critique with a full W3C annotation (Web Annotation Protocol
    PUT). Only its author, only with a current ``If-Match``; the target can't
    change; the new wording goes back to review through ``critique_edit``.
    Preconditions are judged before the body is read (RFC 9110, 13.2.2).
    """
    if annotation.author_id != request.user.pk:
        raise PermissionDenied("Only the author can edit a critique.")
    if not request.headers.get("If-Match"):
        raise PreconditionRequired()
    with transaction.atomic():
        # Lock, then compare: two editors holding the same ETag can't both succeed.
        locked = Critique.objects.select_for_update(of=("self",)).get(pk=annotation.pk)
        _check_if_match(request, locked)
        content, target = parse_annotation(request, annotation.document)
        sent = (target["revision"].pk, target["exact"],
                target.get("start", locked.start), target.get("end", locked.end))
        if sent != (locked.revision_id, locked.exact, locked.start, locked.end):
            raise ValidationError({"target": ["The target can't change: critique another passage anew."]})
        try:
            services.critique_edit(locked, user=request.user, **content)
        except ValidationError as error:
            raise w3c_errors(error) from None
    annotation = _fetch(annotation.pk)
    return Response(annotation_representation(request, annotation), headers=annotation_headers(annotation))


# The container

def parse_prefer(header):
    """``(minimal, iris, applied)`` from a Prefer header; ``applied`` is for Preference-Applied (or '')."""
    minimal = iris = False
    applied = []
    for preference in header.split(","):
        params = {}
        for part in preference.split(";"):
            key, _, value = part.strip().partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        if params.get("return") == "minimal":
            minimal = True
            applied.append("return=minimal")
        elif params.get("return") == "representation":
            honoured = [iri for iri in params.get("include", "").split()
                        if iri in {PREFER_MINIMAL, PREFER_IRIS, PREFER_DESCRIPTIONS}]
            # Descriptions are the default, so they win when both are asked for.
            if PREFER_IRIS in honoured and PREFER_DESCRIPTIONS in honoured:
                honoured.remove(PREFER_IRIS)
            minimal = minimal or PREFER_MINIMAL in honoured
            iris = iris or PREFER_IRIS in honoured
            if honoured:
                applied.append(f'return=representation; include="{" ".join(honoured)}"')
    return minimal, iris, ", ".join(applied)


def _none_match(request, etag):
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    # If-None-Match compares weakly.
    tags = [tag.removeprefix("W/") for tag in parse_etags(header)]
    return "*" in tags or etag in tags


def _query_number(request, name, maximum=None):
    value = request.query_params.get(name)
    if value is None:
        return None
    if not value.isdigit() or not value.isascii() or (maximum is not None and int(value) > maximum):
        allowed = "0 or 1" if maximum == 1 else "a whole number from 0"
        raise ValidationError({name: [f"{name} must be {allowed}."]})
    return int(value)


class AnnotationContainerView(APIView):
    """
    A document's critiques as a Web Annotation Protocol container (an LDP
    BasicContainer and AnnotationCollection) in pages of PAGE_SIZE, oldest
    first. ``?page=N`` is one AnnotationPage; ``&iris=1`` pages list IRIs only.
    """

    renderer_classes = [AnnotationJSONLDRenderer, renderers.JSONRenderer]
    parser_classes = [AnnotationJSONLDParser, JSONParser]
    # Token first, so an anonymous POST is told 401 with WWW-Authenticate, not 403.
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticatedOrReadOnly]

    @property
    def throttle_scope(self):
        return "critiques" if self.request.method == "POST" else None

    @property
    def default_response_headers(self):
        # Who asks decides what is visible, so the answer varies with the credentials too.
        return {"Vary": "Accept, Prefer, Authorization, Cookie"}

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # A 201 describes the new annotation and sets its own; a page is not the container.
        if not response.has_header("Link"):
            for header, value in CONTAINER_HEADERS.items():
                if header == "Allow" or "page" not in request.GET:
                    response[header] = value
        return response

    @extend_schema(
        summary="A document's critiques as a W3C AnnotationCollection, or one AnnotationPage with ?page=N",
        parameters=[
            OpenApiParameter("page", int, description="One AnnotationPage (from 0), not the collection."),
            OpenApiParameter("iris", int, description="1: the page lists annotation IRIs only."),
            OpenApiParameter("Prefer", str, OpenApiParameter.HEADER, description=(
                f'return=representation;include="{PREFER_IRIS}" (IRIs), "{PREFER_DESCRIPTIONS}" '
                f'(the default) or "{PREFER_MINIMAL}" (no embedded page).')),
        ],
        # ``?format=json`` or ``Accept: application/json`` get the same data as plain JSON.
        responses={(200, "application/ld+json"): OpenApiTypes.OBJECT,
                   (200, "application/json"): OpenApiTypes.OBJECT, **error_responses(400, 404, 406, 429)},
    )
    def get(self, request, slug):
        document = get_object_or_404(Document, slug=slug)
        page = _query_number(request, "page")
        if page is None:
            minimal, iris, applied = parse_prefer(request.headers.get("Prefer", ""))
        else:
            minimal, applied = False, ""
            iris = _query_number(request, "iris", maximum=1) == 1
        visible = visible_critiques(request.user, Critique.objects.filter(document=document))
        # Cheap: one aggregate. Every write moves an annotation's ``modified``; the count catches removals.
        stats = visible.aggregate(total=Count("pk"), latest=Max("modified"))
        total, last = stats["total"], max(0, (stats["total"] - 1) // PAGE_SIZE)
        if page is not None and page > last:
            raise exceptions.NotFound(f"There is no page {page}: pages run from 0 to {last}.")
        state = (f"{document.pk}:{document.updated}:{total}:{stats['latest']}:"
                 f"{request.user.pk}:{page}:{minimal}:{iris}")
        headers = {"ETag": f'"{hashlib.sha256(state.encode()).hexdigest()[:32]}"'}
        if applied:
            headers["Preference-Applied"] = applied
        if _none_match(request, headers["ETag"]):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        pages = _Pages(request, document, visible, total, iris)
        if page is not None:
            return Response(pages.page(page), headers=headers)
        data = {
            "@context": [W3C_PROFILE, LDP_CONTEXT],
            "id": pages.container,
            "type": ["BasicContainer", "AnnotationCollection"],
            "label": f"Critiques of “{document.title}”",
            "total": total,
            "first": pages.iri(0) if minimal else pages.page(0, embedded=True),
            "last": pages.iri(last),
        }
        return Response(data, headers=headers)

    @extend_schema(
        summary="File a critique as a W3C annotation (it awaits review)",
        request={"application/ld+json": OpenApiTypes.OBJECT, "application/json": OpenApiTypes.OBJECT},
        responses={(201, "application/ld+json"): OpenApiTypes.OBJECT,
                   (201, "application/json"): OpenApiTypes.OBJECT,
                   **error_responses(400, 401, 404, 406, 413, 415, 429)},
    )
    def post(self, request, slug):
        document = get_object_or_404(Document, slug=slug)
        content, target = parse_annotation(request, document)
        try:
            annotation = services.critique_submit(author=request.user, **content, **target)
        except ValidationError as error:
            raise w3c_errors(error) from None
        annotation = _fetch(annotation.pk)
        data = annotation_representation(request, annotation)
        headers = {**annotation_headers(annotation), "Location": data["id"]}
        return Response(data, status=status.HTTP_201_CREATED, headers=headers)


class _Pages:
    """The AnnotationPages of one container, as the caller sees them."""

    def __init__(self, request, document, visible, total, iris):
        self.request, self.visible, self.total, self.iris = request, visible, total, iris
        self.container = container_iri(request, document.slug)
        self.last = max(0, (total - 1) // PAGE_SIZE)

    def iri(self, number):
        return f"{self.container}?page={number}" + ("&iris=1" if self.iris else "")

    def page(self, number, embedded=False):
        start = number * PAGE_SIZE
        critiques = self.visible.order_by("created", "pk")[start:start + PAGE_SIZE]
        if self.iris:
            items = [annotation_iri(self.request, pk) for pk in critiques.values_list("pk", flat=True)]
        else:
            critiques = critiques.select_related(
                "document", "revision", "author", "version", "published_version",
            ).defer("revision__text", "document__notes")
            items = [annotation_representation(self.request, item, context=False) for item in critiques]
        data = {} if embedded else {"@context": W3C_PROFILE}
        data.update({
            "id": self.iri(number),
            "type": "AnnotationPage",
            "partOf": {"id": self.container, "total": self.total},
            "startIndex": start,
        })
        if number > 0:
            data["prev"] = self.iri(number - 1)
        if number < self.last:
            data["next"] = self.iri(number + 1)
        data["items"] = items
        return data
