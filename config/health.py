"""
``/healthz``: whether this process can serve, for load balancers and monitors.

200 ``{"status": "ok", "database": "ok"}`` once the database answers
``SELECT 1``; 503 with ``"database": "unavailable"`` otherwise. No login, never
cached, exempt from the HTTPS redirect (see settings) and from the anonymous
caching middleware, which would itself need the database.
"""

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@require_safe
@never_cache
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check: the database did not answer.")
        return JsonResponse({"status": "unavailable", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
