"""
The API's own endpoints, outside any app: the root that lists the others, and
token authentication.

Clients authenticate with a session (browsers; writes need the CSRF token)
or with a token from ``POST /api/auth/token/``, sent as
``Authorization: Token <token>``.
"""

from allauth.account.utils import has_verified_email
from django.contrib.auth import authenticate
from django.http import JsonResponse
from django.views import defaults
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from .api import JSONParser, error_responses

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


class TokenSerializer(serializers.Serializer):
    username = serializers.CharField(write_only=True, max_length=150, help_text="Username or email address.")
    password = serializers.CharField(write_only=True, max_length=4096, trim_whitespace=False)
    token = serializers.CharField(read_only=True)

    def validate(self, attrs):
        user = authenticate(self.context["request"], username=attrs["username"], password=attrs["password"])
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
    Exchange a username and password for the user's API token (the same
    token on every call). JSON only: a form can't be posted here cross-site,
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
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


obtain_token = ObtainToken.as_view()


def page_not_found(request, exception):
    """Unknown addresses: the API's JSON error under /api/, the site's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"status": 404, "code": "not_found", "detail": "No endpoint at this address."}, status=404)
    return defaults.page_not_found(request, exception)
