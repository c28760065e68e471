"""
The site's edge: text arrives as UTF-8 that can be stored, or it is refused
before any view sees it.

``InputTextMiddleware`` checks the query string and form bodies (urlencoded
and multipart) of every request, byte by byte, against
``archive.text.invalid_text_reason``: invalid UTF-8, a NUL or a lone
surrogate in a field's name or value answers 400 naming the field, and a body
declaring a charset other than UTF-8 answers 415. Django itself would decode
invalid bytes as U+FFFD without a word, and PostgreSQL refuses a NUL with a
500. JSON bodies are checked where they are parsed (``config.api.JSONParser``),
so their errors name the field's path.

Under /api/ the answer is the API's error shape; elsewhere a page saying what
was wrong.
"""

import base64
import binascii
import codecs
from io import BytesIO
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http.multipartparser import FIELD, ChunkIter, LazyStream, MultiPartParserError, Parser, exhaust
from django.shortcuts import render

from archive.text import invalid_text_reason
from config.api import error_response, is_api_request

FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
NOT_UTF8 = "Text must be UTF-8: this is not valid UTF-8."


class InvalidInput(Exception):
    """A field of the request that can't be taken as text; ``status`` is 400, or 415 for the charset."""

    def __init__(self, field, reason, status=400):
        super().__init__(reason)
        self.field, self.reason, self.status = field, reason, status


def text_reason(raw):
    """Why these bytes are not storable text (invalid UTF-8, a NUL, a surrogate), or ``None``."""
    try:
        return invalid_text_reason(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return NOT_UTF8


def field_label(raw):
    """A field name for a message, readable even when the name itself is the bad part."""
    label = raw.decode("utf-8", "backslashreplace")
    return label.encode("unicode_escape").decode("ascii") if invalid_text_reason(label) else label


def check_fields(pairs):
    """Refuse the first ``(name, value)`` pair of raw bytes that is not storable text."""
    for name, value in pairs:
        for part in (name, value):
            reason = text_reason(part)
            if reason:
                raise InvalidInput(field_label(name), reason)


def urlencoded_fields(raw):
    """``name=value&…`` as raw byte pairs, split and unquoted as Django does, never decoded."""
    # latin-1 maps each byte to one character and back, so nothing is lost or replaced.
    pairs = parse_qsl(
        raw.decode("latin-1"),
        keep_blank_values=True,
        encoding="latin-1",
        max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
    )
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in pairs]


def multipart_fields(body, boundary):
    """Each part's name and, for fields, the value, as raw bytes (with Django's own multipart reader)."""
    pairs = []
    for item_type, meta, stream in Parser(LazyStream(ChunkIter(BytesIO(body))), boundary):
        params = meta.get("content-disposition", (None, {}))[1]
        if "name" in params:
            value = stream.read() if item_type == FIELD else params.get("filename", b"")
            encoding = meta.get("content-transfer-encoding", ("",))[0].strip().lower()
            if item_type == FIELD and encoding == "base64":
                value = _base64(value)
            pairs.append((params["name"].strip(), value))
        exhaust(stream)
    return pairs


def _base64(value):
    try:
        return base64.b64decode(value)
    except binascii.Error:
        return value  # Django keeps undecodable base64 as it is


def check_request(request):
    """Raise ``InvalidInput`` for the first field of the query string or form body that is not storable text."""
    query = request.META.get("QUERY_STRING", "")
    try:
        raw_query = query.encode("latin-1")  # WSGI hands the bytes over as latin-1
    except UnicodeEncodeError:
        raw_query = query.encode("utf-8", "surrogateescape")
    check_fields(urlencoded_fields(raw_query))
    charset = request.content_params.get("charset") if request.content_params else None
    if charset is not None and _codec_name(charset) != "utf-8":
        raise InvalidInput("Content-Type", f"Send the body as UTF-8, not {charset}.", status=415)
    content_type = (request.content_type or "").lower()
    if content_type not in FORM_TYPES:
        return
    if content_type == "multipart/form-data":
        boundary = request.content_params.get("boundary", "")
        check_fields(multipart_fields(request.body, boundary.encode("ascii", "replace")))
    else:
        check_fields(urlencoded_fields(request.body))


def _codec_name(charset):
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return charset


class InputTextMiddleware:
    """Refuse a request whose query string or form body holds text that can't be stored (see the module)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            check_request(request)
        except InvalidInput as error:
            return self.refusal(request, error)
        except (ValueError, RequestDataTooBig, MultiPartParserError):
            pass  # too many fields, too large, malformed: Django's own parsing answers those
        return self.get_response(request)

    def refusal(self, request, error):
        if is_api_request(request):
            code = "unsupported_media_type" if error.status == 415 else "invalid"
            return error_response(
                error.status, code, f"{error.field}: {error.reason}", fields={error.field: [error.reason]}
            )
        context = {"field": error.field, "reason": error.reason}
        return render(request, "invalid_input.html", context, status=error.status)
