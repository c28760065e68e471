"""
How crawlers and feed readers find the archive: the Atom feeds, the sitemap
(an index of its sections, each paginated) and robots.txt.

robots.txt keeps crawlers out of what is private (the same prefixes that are
never cached as public, ``config.caching.PRIVATE_PREFIXES``) and out of the
addresses that have no end (every search, every pair of revisions to
compare); it names the sitemap at the site's address (``APPARATUS_SITE_URL``,
else the address the request came to).
"""

from django.conf import settings
from django.contrib.sitemaps import views as sitemap_views
from django.http import HttpResponse, HttpResponseBadRequest
from django.urls import path, reverse
from django.views.decorators.http import require_safe

from annotations.feeds import CategoryCritiquesFeed, CritiquesFeed, DocumentCritiquesFeed
from annotations.sitemaps import SITEMAPS
from archive.feeds import RevisionsFeed
from archive.text import whole_number
from config.caching import PRIVATE_PREFIXES

# Public, but endless: any query, any pair of revisions. The sitemap lists every page worth indexing.
ENDLESS = ("/search/", "/documents/*/diff/")


def site_address(request):
    return settings.SITE_URL.rstrip("/") if settings.SITE_URL else f"{request.scheme}://{request.get_host()}"


@require_safe
def robots_txt(request):
    lines = ["User-agent: *", "Allow: /"]
    lines += [f"Disallow: {prefix}" for prefix in (*PRIVATE_PREFIXES, *ENDLESS)]
    lines += ["", f"Sitemap: {site_address(request)}{reverse('sitemap')}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


@require_safe
def sitemap_index(request):
    return sitemap_views.index(request, SITEMAPS, sitemap_url_name="sitemap_section")


@require_safe
def sitemap_section(request, section):
    # A page from 1; one past the last is the sitemap paginator's 404.
    if not whole_number(request.GET.get("p", "1")):
        return HttpResponseBadRequest("p: give a page number, a whole number from 1.", content_type="text/plain")
    return sitemap_views.sitemap(request, SITEMAPS, section=section)


urlpatterns = [
    path("robots.txt", robots_txt, name="robots"),
    path("sitemap.xml", sitemap_index, name="sitemap"),
    path("sitemap-<slug:section>.xml", sitemap_section, name="sitemap_section"),
    path("feeds/revisions/", RevisionsFeed.view(), name="feed_revisions"),
    path("feeds/critiques/", CritiquesFeed.view(), name="feed_critiques"),
    path("feeds/critiques/<slug:category>/", CategoryCritiquesFeed.view(), name="feed_category"),
    path("documents/<slug:slug>/feed/", DocumentCritiquesFeed.view(), name="feed_document"),
]
