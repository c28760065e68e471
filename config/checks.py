"""System checks of the site-wide settings production needs."""

from django.conf import settings
from django.core.checks import Error, register


@register(deploy=True)
def release_configured(app_configs, **kwargs):
    """Every host must serve one release id (``APPARATUS_RELEASE``): ETags and cached pages are keyed by it."""
    if settings.RELEASE_FROM_ENVIRONMENT:
        return []
    return [
        Error(
            "APPARATUS_RELEASE is not set: every host and worker must share one release id (e.g. the commit), "
            "or their ETags and cached pages disagree.",
            id="config.E001",
        )
    ]
