"""System checks of the settings the critiques need in production."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, register


@register(deploy=True)
def site_url_configured(app_configs, **kwargs):
    """Emails link to the site: without its address (``APPARATUS_SITE_URL``) every link would be wrong."""
    address = urlsplit(settings.SITE_URL or "")
    if address.scheme in ("http", "https") and address.netloc:
        return []
    return [
        Error(
            "APPARATUS_SITE_URL is not set to the site's address (e.g. https://apparatus.example.org): "
            "links in emails need it.",
            id="annotations.E001",
        )
    ]
