"""
What every API endpoint shares: the JSON parser, pagination (page numbers,
or cursors for the long lists of critiques), and one shape for errors.

Every error answers ``{"status": 400, "code": "invalid", "detail": "…",
"fields": {"selector": ["…"]}}``; ``fields`` names each bad field. Domain
exceptions say their own HTTP status with an ``http_status`` attribute (a
conflict is 409), so no view needs to translate them.

``ErrorSerializer`` describes that shape in the OpenAPI schema:
``extend_schema(responses={200: …, **error_responses(400, 404)})``.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, pagination, parsers, serializers
from rest_framework.response import Response

NON_FIELD = "non_field_errors"


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing documents nested too deeply to decode instead of crashing."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the document is nested too deeply.") from None


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
