"""
The API's own endpoints, outside any app: the root that lists the others, and
token authentication.

Clients authenticate with a session (browsers; writes need the CSRF token)
or with a token from ``POST /api/auth/token/``, sent as
``Authorization: Token <token>``. Tokens, their storage and their revocation
are ``config.accounts.tokens``'.
"""

import sys

from allauth.account.utils import has_verified_email
from django.views import defaults
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from config.accounts.tokens import LockedOut, token_credentials_check, token_issue

from .api import InputSerializer, JSONParser, error_response, error_responses, is_api_request
from .outage import is_outage, outage_response

# How long a client locked out of an account is told to wait: allauth's login_failed window.
LOCKOUT_SECONDS = 300

# What GET /api/ lists: key → URL name. Each app names its own endpoints.
ROOT_ENDPOINTS = {
    "documents": "api-document-list",
    "annotations": "api-critique-list",
    "moderation_queue": "api-moderation-queue",
    "token": "api-token",
    "schema": "api-schema",
    "docs": "api-docs",
}


@extend_schema(
    summary="List the API's endpoints",
    responses={
        200: inline_serializer("ApiRoot", {key: serializers.URLField() for key in ROOT_ENDPOINTS}),
        **error_responses(401, 406),
    },
)
@api_view(["GET"])
@permission_classes([AllowAny])
def api_root(request):
    return Response({key: reverse(name, request=request) for key, name in ROOT_ENDPOINTS.items()})


class TokenScheme(OpenApiAuthenticationExtension):
    """The schema keeps calling token authentication ``tokenAuth``, whichever library checks the tokens."""

    target_class = "config.accounts.tokens.TokenAuthentication"
    name = "tokenAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")


class TokenSerializer(InputSerializer):
    username = serializers.CharField(write_only=True, max_length=150, help_text="Username or email address.")
    password = serializers.CharField(write_only=True, max_length=4096, trim_whitespace=False)
    token = serializers.CharField(read_only=True)

    def validate(self, attrs):
        try:
            user = token_credentials_check(self.context["request"], attrs["username"], attrs["password"])
        except LockedOut as error:
            # The site's login lockout, per account: wrong passwords here and on the login form count together.
            raise exceptions.Throttled(wait=LOCKOUT_SECONDS, detail=str(error)) from error
        if user is None:
            # One message for an unknown user and a wrong password: don't reveal who is registered.
            raise serializers.ValidationError(
                {"password": "Unable to log in with this username and password."}, code="authorization"
            )
        # The same rule as the site's login: no access before the address is verified.
        if not has_verified_email(user):
            raise serializers.ValidationError(
                {"username": "This account's email address is not verified yet."}, code="unverified"
            )
        attrs["user"] = user
        return attrs


class ObtainToken(APIView):
    """
    Exchange a username and password for a new API token (each call issues
    another; the database keeps only its digest). JSON only: a form can't be posted here cross-site,
    so no CSRF token is needed, and no session is consulted.
    """

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]
    throttle_scope = "tokens"

    @extend_schema(
        summary="Get an API token",
        request=TokenSerializer,
        responses={200: TokenSerializer, **error_responses(400, 406, 413, 415, 429)},
        auth=[],
    )
    def post(self, request):
        serializer = TokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        return Response({"token": token_issue(serializer.validated_data["user"])})


obtain_token = ObtainToken.as_view()


def page_not_found(request, exception):
    """Unknown addresses: the API's JSON error under /api/, the site's page elsewhere."""
    if is_api_request(request):
        return error_response(404, "not_found", "No endpoint at this address.")
    return defaults.page_not_found(request, exception)


def server_error(request):
    """An unexpected failure: the API's JSON error under /api/, the site's page elsewhere."""
    exception = sys.exc_info()[1]
    if is_outage(exception):
        return outage_response(request, exception)  # failed in a middleware, before any view
    if is_api_request(request):
        return error_response(500, "server_error", "The server failed to answer this request; try again later.")
    return defaults.server_error(request)
