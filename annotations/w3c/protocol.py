"""
Reading what a Web Annotation client sends: bodies, targets, ``Prefer``
and the preconditions of the protocol, turned into the critique's fields.
Preconditions are judged by ``archive.http``, like every response's.
"""

import re
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import Resolver404, resolve, reverse
from rest_framework import status
from rest_framework.response import Response

from annotations import services
from annotations.evidence import DOI_RESOLVER, REFERENCE
from annotations.lifecycle import ModerationConflict, Status
from annotations.models import Category, Critique
from annotations.visibility import visible_entries
from annotations.w3c.representation import (
    CATEGORY_LIST,
    ISBN_URN,
    MARKDOWN_SPECIAL,
    PREFER_DESCRIPTIONS,
    PREFER_IRIS,
    PREFER_MINIMAL,
    PreconditionFailed,
    PreconditionRequired,
    annotation_etag,
    annotation_headers,
    annotation_representation,
)
from archive.former_slugs import is_former_slug_of
from archive.http import conditional_response, if_match_missing
from archive.models import Revision
from archive.text import whole_number


def _fetch(pk):
    return (
        Critique.objects.select_related(
            "document",
            "revision",
            "author",
            "version",
            "published_version",
        )
        .defer("revision__text", "document__notes")
        .get(pk=pk)
    )


# Parsing a W3C annotation into the critique's fields

# The category of a comment sent without a classifying body.
DEFAULT_CATEGORY = Category.MISSING_CONTEXT


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


def _text_of(value):
    """A JSON-LD string value (single, a one-item list, or ``{name}`` for a person); anything else as it is."""
    value = _single_string(value) if isinstance(value, list) else value
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return value["name"]
    return value


def _is_reference(body, source):
    return isinstance(source, dict) and (
        "schema:author" in source or "schema:datePublished" in source or "schema:pagination" in body
    )


def _reference(body, source):
    """A linking body that cites a book or article (``representation._evidence_body``) as a reference."""
    work = source.get("id")
    item = {
        "kind": REFERENCE,
        "author": _text_of(source.get("schema:author")),
        "title": _text_of(source.get("label")),
        "year": _text_of(source.get("schema:datePublished")),
        "locator": _text_of(body.get("schema:pagination")),
        "doi": "",
        "isbn": _text_of(source.get("schema:isbn", "")),
        "url": _text_of(source.get("schema:url", "")),
        "note": _text_of(body.get("schema:description", "")),
    }
    # The work's id says what it is only when it is a DOI link or an ISBN URN; otherwise it is just a name.
    if isinstance(work, str) and work.startswith(DOI_RESOLVER):
        item["doi"] = unquote(work.removeprefix(DOI_RESOLVER))
    elif isinstance(work, str) and work.lower().startswith(ISBN_URN) and not item["isbn"]:
        item["isbn"] = work[len(ISBN_URN) :]
    return item


def _evidence(body):
    source = body.get("source", body.get("id"))
    if _is_reference(body, source):
        return _reference(body, source)
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
    if bodies is None and isinstance(data.get("bodyValue"), str):
        # The model's shorthand for one plain-text comment (section 3.2.5).
        bodies = {"type": "TextualBody", "value": data["bodyValue"], "format": "text/plain"}
    if isinstance(bodies, dict):
        bodies = [bodies]
    if not isinstance(bodies, list) or not bodies:
        messages.append(
            "Give the bodies: a classifying TextualBody (the category), a commenting "
            "TextualBody (the explanation) and linking SpecificResources (the evidence)."
        )
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
    if content["category"] is None and content["body"] is not None:
        # A plain comment, as any annotation client writes one, adds to the passage without disputing it.
        content["category"] = DEFAULT_CATEGORY
    elif content["category"] is None and bodies:
        messages.append(
            f"Give the explanation as a commenting TextualBody, and the category as a classifying "
            f"TextualBody: one of {CATEGORY_LIST}."
        )
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
    if (
        not match
        or match.url_name not in {"revision", "document"}
        or (match.kwargs["slug"] != document.slug and not is_former_slug_of(document, match.kwargs["slug"]))
    ):
        raise ValueError(
            f"The source must be a revision of this document: {reverse('revision', args=[document.slug, 1])} and on."
        )
    number = match.kwargs.get("number", document.revision_count)  # the reading page shows the current one
    revision = Revision.objects.without_text().filter(document=document, number=number).first()
    if revision is None:
        raise ValueError(f"This document has no revision {number}.")
    return revision


def _text_fragment_quote(fragment):
    """
    The TextQuoteSelector a text fragment (``:~:text=prefix-,exact,-suffix``)
    names, or ValueError saying what to send instead.
    """
    directives = fragment.removeprefix(":~:").split("&") if fragment.startswith(":~:") else []
    texts = [directive.removeprefix("text=") for directive in directives if directive.startswith("text=")]
    if len(texts) != 1:
        raise ValueError(
            "A target given as one IRI names its passage with a text fragment: "
            "#:~:text=prefix-,exact,-suffix (or give {source, selector: [TextQuoteSelector]})."
        )
    parts = texts[0].split(",")
    quote = {"type": "TextQuoteSelector"}
    if parts and parts[0].endswith("-"):
        quote["prefix"] = unquote(parts.pop(0)[:-1])
    if parts and parts[-1].startswith("-"):
        quote["suffix"] = unquote(parts.pop()[1:])
    if len(parts) != 1 or not parts[0]:
        raise ValueError("The text fragment must quote the whole passage (not a start and an end).")
    quote["exact"] = unquote(parts[0])
    return quote


def parse_target(request, document, data, errors):
    """The revision and selector fields from the annotation's target; problems go to ``errors``."""
    target = data.get("target")
    if isinstance(target, list) and len(target) == 1:
        target = target[0]
    as_iri = isinstance(target, str)
    if as_iri:
        # One IRI: the revision, its passage in the fragment (a SpecificResource is the other way).
        source, _, fragment = target.partition("#")
        try:
            target = {"source": source, "selector": _text_fragment_quote(fragment)}
        except ValueError as error:
            errors["target"] = [str(error)]
            return None
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
    return fields, as_iri


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


def _client_iri(data, field, errors):
    """An IRI the client gave (``canonical``, or ``id`` kept as ``via``): a string, as it is; '' without one."""
    value = data.get(field)
    if value is None:
        return ""
    if not isinstance(value, str) or not urlsplit(value).scheme or len(value) > 2000:
        errors[field] = [f"The {field} must be an absolute IRI of at most 2000 characters."]
        return ""
    return value


def parse_annotation(request, document):
    """
    ``(content, target, filed_as)``: the critique's fields from the W3C
    annotation sent, and how its client filed it (its ``canonical`` IRI, its
    ``id`` as ``via``, a target sent as one IRI), or a ValidationError naming
    each bad field.
    """
    data = request.data
    if not isinstance(data, dict):
        raise ValidationError("Send one W3C annotation: a JSON object.")
    errors = {}
    if "type" in data and "Annotation" not in _values(data["type"]):
        errors["type"] = ['The type must be "Annotation".']
    content = parse_bodies(data, errors)
    target, as_iri = parse_target(request, document, data, errors) or (None, False)
    filed_as = {
        "canonical": _client_iri(data, "canonical", errors),
        "via": _client_iri(data, "id", errors),
        "target_as_iri": as_iri,
    }
    if errors:
        raise ValidationError(errors)
    return content, target, filed_as


# Editing through the protocol


def _check_if_match(request, annotation):
    # archive.http compares If-Match strongly: a weak tag never matches.
    if conditional_response(request, annotation_etag(annotation)) is not None:
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
    if annotation.is_reply:
        raise ModerationConflict(annotation, "A reply is changed with PATCH on its address, not replaced by PUT.")
    if if_match_missing(request):
        raise PreconditionRequired()
    with transaction.atomic():
        # Lock, then compare: two editors holding the same ETag can't both succeed.
        locked = Critique.objects.select_for_update(of=("self",)).get(pk=annotation.pk)
        _check_if_match(request, locked)
        # The IRIs it was filed with stay (a canonical IRI never changes), and so does its target's form.
        content, target, _ = parse_annotation(request, annotation.document)
        sent = (
            target["revision"].pk,
            target["exact"],
            target.get("start", locked.start),
            target.get("end", locked.end),
        )
        if sent != (locked.revision_id, locked.exact, locked.start, locked.end):
            raise ValidationError({"target": ["The target can't change: critique another passage anew."]})
        latest = locked.version
        # Sending back what is there changes nothing: no new version, no new review, the same ETag.
        if content != {"category": latest.category, "body": latest.body, "evidence": latest.evidence}:
            try:
                services.critique_edit(locked, user=request.user, **content)
            except ValidationError as error:
                raise w3c_errors(error) from None
    annotation = _fetch(annotation.pk)
    return Response(annotation_representation(request, annotation), headers=annotation_headers(annotation))


def annotation_withdraw(request, annotation):
    """
    DELETE: the author withdraws the critique, only while ``If-Match`` (when
    sent) still names it; without If-Match it is withdrawn as the critiques
    API always did.
    """
    with transaction.atomic():
        locked = Critique.entries.select_for_update(of=("self",)).select_related("version").get(pk=annotation.pk)
        if not if_match_missing(request):
            _check_if_match(request, locked)
        services.critique_withdraw(locked, user=request.user)  # the author only, else 403


# The container


def contained_entries(user, document):
    """
    The critiques and replies of ``document`` in its container, as ``user``
    sees them: a withdrawn one has been deleted, for the protocol, so it is
    gone for everyone, its author and moderators too (its IRI answers 410).
    """
    entries = visible_entries(user, Critique.entries.filter(document=document))
    return entries.exclude(status=Status.WITHDRAWN)


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
            honoured = [
                iri
                for iri in params.get("include", "").split()
                if iri in {PREFER_MINIMAL, PREFER_IRIS, PREFER_DESCRIPTIONS}
            ]
            # Descriptions are the default, so they win when both are asked for.
            if PREFER_IRIS in honoured and PREFER_DESCRIPTIONS in honoured:
                honoured.remove(PREFER_IRIS)
            minimal = minimal or PREFER_MINIMAL in honoured
            iris = iris or PREFER_IRIS in honoured
            if honoured:
                applied.append(f'return=representation; include="{" ".join(honoured)}"')
    return minimal, iris, ", ".join(applied)


def conditional_get(request, headers):
    """
    A 304 with ``headers`` when the client's copy (``If-None-Match``, compared
    weakly) is the representation tagged ``headers["ETag"]``, or
    PreconditionFailed when an ``If-Match`` names another; None to answer in full.
    """
    answer = conditional_response(request, headers["ETag"])
    if answer is None:
        return None
    if answer.status_code == status.HTTP_412_PRECONDITION_FAILED:
        raise PreconditionFailed("The collection changed since you read it: GET it again.")
    return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)


def _query_number(request, name, maximum=None):
    value = request.query_params.get(name)
    if value is None:
        return None
    number = whole_number(value, digits=18)  # past 18 digits no page exists
    if number is None or (maximum is not None and number > maximum):
        allowed = "0 or 1" if maximum == 1 else "a whole number from 0"
        raise ValidationError({name: [f"{name} must be {allowed}."]})
    return number
