"""The site's URLs plus addresses whose views really fail, to see what a server error answers."""

from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from config.urls import handler404, handler500
from config.urls import urlpatterns as site_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]


def failing_view(request):
    raise RuntimeError("An unexpected failure.")


@api_view(["GET", "POST"])
@permission_classes([AllowAny])
def failing_api_view(request):
    raise RuntimeError("An unexpected failure.")


urlpatterns = [
    path("api/failing/", failing_api_view),
    path("api/failing-plain/", failing_view),
    path("failing/", failing_view),
    *site_urlpatterns,
]
