"""
``Idempotency-Key`` on the API's writes: a client that sends a POST again
(its connection dropped before the answer came) gets the first answer again,
and nothing is written twice.

``@idempotent`` wraps a DRF view method. Without the header it changes
nothing. With it, the key (per user) is stored with a fingerprint of the
request (method, path, body) and the answer, in the same transaction as the
write: a 2xx answer commits with its key, an error answer (400, 409, …) wrote
nothing and keeps no key, so the retry is judged afresh. A retry with the
same key and the same request gets the stored status, body and headers; the
same key with another request is a 422. Two copies of one request sent at
once meet at the key's unique constraint: the second waits for the first to
commit, then answers as a retry.
"""

import hashlib
import json
import re
from functools import wraps

from django.db import IntegrityError, transaction
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from archive.models import IdempotencyKey

HEADER = "Idempotency-Key"
# Printable ASCII, as the header's draft standard allows, short enough to index.
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
# The headers of the first answer that a replay repeats.
REPLAYED_HEADERS = ("Location", "ETag", "Content-Location", "Link")


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used for another request; send a new key for a new request."
    default_code = "idempotency_key_reused"


def fingerprint(request):
    """SHA-256 of the method, the path and the body as parsed (key order and spacing don't count)."""
    body = json.dumps(request.data, cls=JSONEncoder, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{request.method} {request.get_full_path()}\n{body}".encode()).hexdigest()


def _replay(record):
    response = Response(record.body, status=record.status, headers=record.headers)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(view_method):
    """Make a DRF view method (a write) honour ``Idempotency-Key`` for authenticated users."""

    @wraps(view_method)
    def wrapped(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None or not request.user.is_authenticated:
            return view_method(view, request, *args, **kwargs)
        if not KEY_PATTERN.fullmatch(key):
            raise exceptions.ValidationError({HEADER: ["Send 1 to 255 printable ASCII characters."]})
        print_ = fingerprint(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(user=request.user, key=key, fingerprint=print_, status=0)
            except IntegrityError:
                # Another request holds this key, and has committed (the insert waited for it).
                record = IdempotencyKey.objects.get(user=request.user, key=key)
                if record.fingerprint != print_:
                    raise IdempotencyKeyReused() from None
                return _replay(record)
            response = view_method(view, request, *args, **kwargs)
            if not status.is_success(response.status_code):
                # An answer that wrote nothing keeps no key: the retry is judged afresh.
                transaction.set_rollback(True)
                return response
            record.status = response.status_code
            record.body = json.loads(json.dumps(response.data, cls=JSONEncoder))
            record.headers = {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)}
            record.save(update_fields=["status", "body", "headers"])
        return response

    wrapped.honours_idempotency_key = True
    return wrapped


def document_idempotency_keys(result, generator, request, public):
    """
    drf-spectacular postprocessing hook: every operation whose view method is
    ``@idempotent`` documents the optional header and the 422 of a reused key.
    """
    for path, _, method, callback in generator.endpoints:
        # A viewset's callback maps methods to actions; a plain view's handler is named for the method.
        actions = getattr(callback, "actions", None) or {}
        handler = getattr(callback.cls, actions.get(method.lower(), method.lower()), None)
        if not getattr(handler, "honours_idempotency_key", False):
            continue
        # The schema names a ``{pk}`` path parameter ``{id}`` (drf-spectacular's SCHEMA_COERCE_PATH_PK).
        operation = result["paths"][path.replace("{pk}", "{id}")][method.lower()]
        operation.setdefault("parameters", []).append(
            {
                "in": "header",
                "name": HEADER,
                "required": False,
                "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
                "description": "Send the same key again with the same request to get the first answer, not a second write.",
            }
        )
        # In the media types the view renders its other errors in (the W3C container's include JSON-LD).
        error = operation["responses"].get("400", {}).get("content")
        operation["responses"]["422"] = {
            "content": error or {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            "description": IdempotencyKeyReused.default_detail,
        }
    return result
