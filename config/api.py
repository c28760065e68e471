"""
What every API endpoint shares: the JSON parser, pagination (page numbers,
or cursors for the long lists of critiques), and one shape for errors.

Every error answers ``{"status": 400, "code": "invalid", "detail": "…",
"fields": {"selector": ["…"]}}``; ``fields`` names each bad field. Domain
exceptions say their own HTTP status with an ``http_status`` attribute (a
conflict is 409), so no view needs to translate them.

``ErrorSerializer`` describes that shape in the OpenAPI schema:
``extend_schema(responses={200: …, **error_responses(400, 404)})``;
``error_response`` writes it outside DRF (unknown addresses, server errors,
the site's edge).

Text in a JSON body is valid or refused: invalid UTF-8, a NUL or a lone
surrogate (a ``\ud800`` escape decodes to one) anywhere in it is a 400 naming
the field's path, ``evidence[0].title``. Write serializers derive from
``InputSerializer``: a field they don't declare is a 400 naming it, never
silently dropped.
"""

from collections.abc import Mapping

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, pagination, parsers, serializers
from rest_framework.response import Response
from rest_framework.utils import json

from archive.text import invalid_text_reason

NON_FIELD = "non_field_errors"
NOT_UTF8 = "Text must be UTF-8: this is not valid UTF-8."
# What strict UTF-8 decoding can't read becomes U+DC80–U+DCFF under "surrogateescape".
ESCAPED_BYTE_RANGE = range(0xDC80, 0xDD00)


def is_api_request(request):
    return request.path.startswith("/api/")


def error_response(status, code, detail, fields=None):
    """The error shape, outside DRF's views."""
    body = {"status": status, "code": code, "detail": detail}
    if fields is not None:
        body["fields"] = fields
    return JsonResponse(body, status=status)


def invalid_text_fields(value, path="", escaped=False):
    """``{path: [reason]}`` for every string (or key) in decoded JSON that can't be stored as text."""
    found = {}
    if isinstance(value, str):
        reason = invalid_text_reason(value)
        if reason and escaped and any(ord(char) in ESCAPED_BYTE_RANGE for char in value):
            reason = NOT_UTF8
        if reason:
            found[path or NON_FIELD] = [reason]
    elif isinstance(value, dict):
        for key, item in value.items():
            if invalid_text_reason(key):
                label = key.encode("unicode_escape").decode("ascii")
                found.update(invalid_text_fields(key, f"{path}.{label}" if path else label, escaped))
            else:
                found.update(invalid_text_fields(item, f"{path}.{key}" if path else key, escaped))
    elif isinstance(value, list):
        for number, item in enumerate(value):
            found.update(invalid_text_fields(item, f"{path}[{number}]", escaped))
    return found


class JSONParser(parsers.JSONParser):
    """
    JSON in UTF-8 whose every string can be stored, or a ParseError or
    ValidationError naming the bad field. Documents nested too deeply to
    decode are refused instead of crashing. (A declared charset other than
    UTF-8 never gets here: ``config.edge`` answers 415.)
    """

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read()
        try:
            text, escaped = raw.decode("utf-8"), False
        except UnicodeDecodeError:
            # Decoded anyway, to tell which field holds the bytes that are not UTF-8.
            text, escaped = raw.decode("utf-8", "surrogateescape"), True
        try:
            data = json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the document is nested too deeply.") from None
        except ValueError as error:
            if escaped:
                raise exceptions.ParseError(f"JSON parse error - {NOT_UTF8}") from None
            raise exceptions.ParseError(f"JSON parse error - {error}") from None
        if bad := invalid_text_fields(data, escaped=escaped):
            raise exceptions.ValidationError(bad)
        return data


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class CursorPagination(pagination.CursorPagination):
    """
    Oldest first by creation time (then id), a page at a time from the
    ``next`` / ``previous`` cursor: page 1,000 costs what page 1 does, where
    a page number would make the database count and skip every row before it.
    There is no ``count`` for the same reason.
    """

    ordering = ("created", "pk")
    page_size_query_param = "page_size"
    max_page_size = 200


class InputSerializer(serializers.Serializer):
    """
    A request body. Every field it does not declare (or declares read-only)
    is an error naming it, reported with the body's other errors: a field the
    caller thinks it set and the server dropped would change something else
    than asked (``{"status": "approved"}`` in an edit would resubmit it).
    """

    def unknown_field_message(self, name):
        return "Unknown field: this request does not take it."

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)
        writable = {name for name, field in self.fields.items() if not field.read_only}
        errors = {name: [self.unknown_field_message(name)] for name in data if name not in writable}
        try:
            value = super().to_internal_value(data)
        except exceptions.ValidationError as error:
            raise exceptions.ValidationError({**error.detail, **errors}) from None
        if errors:
            raise exceptions.ValidationError(errors)
        return value


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "too_large"


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    # For the schema only: exception_handler() below writes the body.
    status = serializers.IntegerField(help_text="The HTTP status code.")
    code = serializers.CharField(help_text="A machine-readable code: invalid, not_found, conflict…")
    detail = serializers.CharField(help_text="What went wrong, for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Validation errors only: the messages for each bad field.",
    )


ERROR_DESCRIPTIONS = {
    400: "Invalid input; `fields` names each bad field.",
    401: "Not authenticated: send `Authorization: Token <token>` or log in.",
    403: "Authenticated, but not allowed to do this.",
    404: "No such resource.",
    405: "Method not allowed.",
    406: "Only application/json is offered.",
    409: "Conflict with the current state of the resource.",
    413: "The request body is too large.",
    415: "The request body must be application/json.",
    429: "Too many requests; retry later.",
}


def error_responses(*statuses):
    """OpenAPI responses for the given error statuses, all in the one error shape."""
    return {status: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[status]) for status in statuses}


HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def document_edge_errors(result, generator, request, public):
    """
    drf-spectacular postprocessing hook: ``config.edge`` may refuse any
    request's query string (400) and any body's charset (415) before a view
    runs, so every operation documents those answers.
    """
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue
            for status in [400, 415] if "requestBody" in operation else [400]:
                operation.setdefault("responses", {}).setdefault(
                    str(status),
                    {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                        "description": ERROR_DESCRIPTIONS[status],
                    },
                )
    return result


def _field_messages(detail):
    """DRF's nested error detail as ``{field: [message, …]}``."""
    if isinstance(detail, dict):
        fields = {}
        for field, value in detail.items():
            if isinstance(value, dict):
                for subfield, messages in _field_messages(value).items():
                    fields[f"{field}.{subfield}"] = messages
            else:
                fields[field] = [str(message) for message in (value if isinstance(value, list) else [value])]
        return fields
    if isinstance(detail, list):
        messages = []
        for item in detail:
            if isinstance(item, dict):
                return {NON_FIELD: [f"{k}: {' '.join(v)}" for k, v in _field_messages(item).items()]}
            messages.append(str(item))
        return {NON_FIELD: messages}
    return {}


def _to_api_exception(exc):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError({field: list(messages) for field, messages in exc.message_dict.items()})
        return exceptions.ValidationError({NON_FIELD: exc.messages})
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    status = getattr(exc, "http_status", None)
    if status:
        error = exceptions.APIException(str(exc), code="conflict" if status == 409 else "error")
        error.status_code = status
        return error
    return exc


def exception_handler(exc, context):
    # Imported here: rest_framework.views reads DEFAULT_PARSER_CLASSES, which
    # names this module, so importing it at the top is circular.
    from rest_framework.views import exception_handler as drf_exception_handler

    exc = _to_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: let it surface as one
    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    if isinstance(exc, exceptions.ValidationError):
        fields = _field_messages(detail)
        summary = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in fields.items())
        body = {"status": response.status_code, "code": "invalid", "detail": summary, "fields": fields}
    else:
        code = detail.code if hasattr(detail, "code") else "error"
        body = {"status": response.status_code, "code": code, "detail": str(detail)}
    return Response(body, status=response.status_code, headers=dict(response.items()))
