"""
Feeds, the sitemap and robots.txt (config.discovery): each feed is valid Atom
(RFC 4287's required elements, read with a real XML parser), its links open,
it shows only what readers may see, and it costs the same number of queries
whatever the archive holds; the sitemap lists the same, and robots.txt keeps
crawlers out of private and endless addresses.
"""

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from django.test import override_settings
from django.urls import reverse

from annotations import services
from annotations.models import Category
from tests.factories import DEFAULT_EVIDENCE, SAMPLE_TEXT, approve, decide, submit_critique

ATOM = {"a": "http://www.w3.org/2005/Atom"}
SITEMAP = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
PASSAGES = [
    "proclaimed on 28 March 1871",
    "Some twenty thousand Communards were killed",
    "The Vendôme Column was pulled down",
    "Karl Marx wrote The Civil War in France",
]


def get_xml(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:300]
    return response, ET.fromstring(response.content)


def path_of(url):
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def text_of(element, tag):
    found = element.find(tag, ATOM)
    assert found is not None and (found.text or "").strip(), f"{tag} missing or empty"
    return found.text


def check_atom(client, url):
    """The feed's required elements and every entry's (RFC 4287 §4.1.1, §4.1.2); returns the entries."""
    response, feed = get_xml(client, url)
    assert response["Content-Type"].startswith("application/atom+xml")
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    for tag in ("a:id", "a:title", "a:updated"):
        text_of(feed, tag)
    self_link = feed.find("a:link[@rel='self']", ATOM)
    assert self_link is not None and path_of(self_link.get("href")) == url
    assert text_of(feed, "a:id") == self_link.get("href")  # each feed its own id
    feed_has_author = feed.find("a:author/a:name", ATOM) is not None
    entries = feed.findall("a:entry", ATOM)
    for entry in entries:
        for tag in ("a:id", "a:title", "a:updated"):
            text_of(entry, tag)
        alternate = entry.find("a:link[@rel='alternate']", ATOM)
        assert alternate is not None or entry.find("a:content", ATOM) is not None
        assert entry.find("a:summary", ATOM) is not None or entry.find("a:content", ATOM) is not None
        assert feed_has_author or entry.find("a:author/a:name", ATOM) is not None
    return entries


def entry_links(entries):
    return [path_of(entry.find("a:link[@rel='alternate']", ATOM).get("href")) for entry in entries]


@pytest.fixture
def states(author, other, moderator, revision):
    """One critique in each state: only ``published`` (and the approved-then-edited one) are for readers."""
    pending = submit_critique(author, revision, passage=PASSAGES[0], body="Pending body.")
    rejected = submit_critique(author, revision, passage=PASSAGES[1], body="Rejected body.")
    decide(rejected, moderator, "reject")
    withdrawn = submit_critique(author, revision, passage=PASSAGES[2], body="Withdrawn body.")
    approve(withdrawn, moderator)
    services.critique_withdraw(withdrawn, user=author)
    hidden = submit_critique(other, revision, passage=PASSAGES[3], body="Hidden body.")
    approve(hidden, moderator)
    decide(hidden, moderator, "hide")
    published = submit_critique(
        other, revision, passage=PASSAGES[1], category="factual_error", body="Published *body* <script>x</script>."
    )
    approve(published, moderator)
    services.critique_edit(
        published, user=other, category="factual_error", body="A secret pending edit.", evidence=DEFAULT_EVIDENCE
    )
    critiques = {"pending": pending, "rejected": rejected, "withdrawn": withdrawn, "hidden": hidden}
    critiques["published"] = published
    for critique in critiques.values():
        critique.refresh_from_db()
    return critiques


def critique_feeds(document):
    return [
        reverse("feed_critiques"),
        reverse("feed_document", args=[document.slug]),
        reverse("feed_category", args=["factual_error"]),
    ]


def test_critique_feeds_show_only_published_critiques_in_their_published_wording(client, states, document):
    published = states["published"]
    for url in critique_feeds(document):
        entries = check_atom(client, url)
        links = entry_links(entries)
        assert published.get_absolute_url() in links, url
        for name in ("pending", "rejected", "withdrawn", "hidden"):
            assert states[name].get_absolute_url() not in links, (url, name)
        body = client.get(url).content.decode()
        for secret in ("Pending body", "Rejected body", "Withdrawn body", "Hidden body", "secret pending edit"):
            assert secret not in body, (url, secret)


def test_a_critique_entry(client, states, document):
    published = states["published"]
    entries = check_atom(client, reverse("feed_document", args=[document.slug]))
    [entry] = entries
    assert text_of(entry, "a:id") == f"http://testserver/critiques/{published.pk}/"
    assert text_of(entry, "a:author/a:name") == "bela"
    assert text_of(entry, "a:title") == f"Factual error: “{PASSAGES[1]}” in {document.title}"
    assert text_of(entry, "a:updated") == published.published_version.created.isoformat()
    category = entry.find("a:category", ATOM)
    assert (category.get("term"), category.get("label")) == ("factual_error", "Factual error")
    related = entry.find("a:link[@rel='related']", ATOM)
    assert path_of(related.get("href")) == document.current_revision.get_absolute_url()
    content = entry.find("a:content", ATOM)
    assert content.get("type") == "html"
    # The site's sanitized Markdown: emphasis kept, the script gone; the passage quoted and escaped.
    assert "<em>body</em>" in content.text and "<script" not in content.text
    assert f"<blockquote><p>{PASSAGES[1]}</p></blockquote>" in content.text
    assert "Tombs, The Paris Commune 1871" in content.text  # the evidence


def test_feed_entries_open(client, states, document):
    urls = [*critique_feeds(document), reverse("feed_revisions")]
    for url in urls:
        entries = check_atom(client, url)
        assert entries, url
        for entry in entries:
            for link in entry.findall("a:link", ATOM):
                assert client.get(path_of(link.get("href"))).status_code == 200, link.get("href")


def test_the_revisions_feed(client, document):
    from archive.services import document_update

    document_update(document, base_revision=1, text=SAMPLE_TEXT + "More.\n", summary="Added <a line>.")
    entries = check_atom(client, reverse("feed_revisions"))
    titles = [text_of(entry, "a:title") for entry in entries]
    assert titles[:2] == [f"{document.title}: revision 2", f"New document: {document.title}"]
    newest = entries[0]
    assert text_of(newest, "a:id").startswith("tag:testserver,")
    assert (
        path_of(newest.find("a:link[@rel='alternate']", ATOM).get("href")) == f"/documents/{document.slug}/revisions/2/"
    )
    assert "Added &lt;a line&gt;." in text_of(newest, "a:summary")  # escaped once inside type="html"
    assert path_of(newest.find("a:link[@rel='related']", ATOM).get("href")) == (
        f"/documents/{document.slug}/diff/?from=1&to=2"
    )


def test_feeds_of_unknown_things_answer_404(client, db):
    assert client.get(reverse("feed_category", args=["not_a_category"])).status_code == 404
    assert client.get(reverse("feed_document", args=["no-such-document"])).status_code == 404
    assert client.post(reverse("feed_critiques")).status_code == 405


def test_every_category_has_a_feed(client, db):
    for category in Category.values:
        check_atom(client, reverse("feed_category", args=[category]))


def publish_many(count, author, moderator, revision):
    for index in range(count):
        approve(submit_critique(author, revision, passage=PASSAGES[index % 4], body=f"Note {index}."), moderator)


@pytest.mark.parametrize(
    ("name", "args", "queries"),
    [
        ("feed_critiques", [], 2),
        ("feed_document", ["commune"], 3),
        ("feed_category", ["unsourced_claim"], 2),
        ("feed_revisions", [], 2),
        ("sitemap", [], 8),
        ("sitemap_section", ["documents"], 3),
        ("sitemap_section", ["revisions"], 3),
        ("sitemap_section", ["critiques"], 3),
    ],
)
def test_query_counts_do_not_grow_with_the_archive(
    client, author, moderator, revision, django_assert_num_queries, name, args, queries
):
    # One query more than the view's own: the version or archive state behind the anonymous ETag (config.caching).
    url = reverse(name, args=args)
    publish_many(3, author, moderator, revision)
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200
    publish_many(27, author, moderator, revision)
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200


def test_feeds_are_cached_like_public_pages(client, states):
    url = reverse("feed_critiques")
    first = client.get(url)
    assert "public" in first["Cache-Control"] and first["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def sitemap_locations(client, url):
    _response, root = get_xml(client, url)
    return [(path_of(node.find("s:loc", SITEMAP).text), node.find("s:lastmod", SITEMAP)) for node in root]


def test_the_sitemap_lists_documents_revisions_and_published_critiques(client, states, document):
    _response, index = get_xml(client, reverse("sitemap"))
    assert index.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    sections = [path_of(node.find("s:loc", SITEMAP).text) for node in index.findall("s:sitemap", SITEMAP)]
    assert sections == ["/sitemap-documents.xml", "/sitemap-revisions.xml", "/sitemap-critiques.xml"]
    listed = {}
    for section in sections:
        for location, lastmod in sitemap_locations(client, section):
            assert lastmod is not None and lastmod.text, location
            listed[location] = lastmod.text
            assert client.get(location).status_code == 200, location
    assert document.get_absolute_url() in listed
    assert document.current_revision.get_absolute_url() in listed
    assert states["published"].get_absolute_url() in listed
    for name in ("pending", "rejected", "withdrawn", "hidden"):
        assert states[name].get_absolute_url() not in listed, name
    # The document changed last when its critique was published (its published wording's date).
    assert listed[document.get_absolute_url()] == states["published"].published_version.created.date().isoformat()


def test_a_sitemap_page_that_is_not_a_number_is_refused(client, db):
    response = client.get(reverse("sitemap_section", args=["documents"]), {"p": "x"})
    assert response.status_code == 400 and b"p:" in response.content
    assert client.get(reverse("sitemap_section", args=["nothing"])).status_code == 404


@override_settings(SITE_URL="https://apparatus.example.org/")
def test_robots_txt(client, db):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert lines[:2] == ["User-agent: *", "Allow: /"]
    for private in ("/admin/", "/accounts/", "/me/", "/moderation/", "/api/auth/", "/api/me/", "/api/moderation/"):
        assert f"Disallow: {private}" in lines
    assert "Disallow: /search/" in lines and "Disallow: /documents/*/diff/" in lines
    assert "Disallow: /documents/" not in lines and "Disallow: /critiques/" not in lines
    assert "Sitemap: https://apparatus.example.org/sitemap.xml" in lines


@override_settings(SITE_URL="")
def test_robots_txt_names_the_sitemap_at_the_requested_address(client, db):
    assert "Sitemap: http://testserver/sitemap.xml" in client.get("/robots.txt").content.decode().splitlines()


def test_pages_name_their_feeds(client, document):
    home = client.get("/").content.decode()
    assert f'type="application/atom+xml" title="Apparatus: new critiques" href="{reverse("feed_critiques")}"' in home
    assert f'href="{reverse("feed_revisions")}"' in home
    for url in (document.get_absolute_url(), document.current_revision.get_absolute_url()):
        page = client.get(url).content.decode()
        assert f'href="{reverse("feed_document", args=[document.slug])}"' in page


def test_a_document_feed_follows_the_document_when_it_is_renamed(client, document):
    from archive.services import document_update

    document_update(document, slug="paris-commune")
    response = client.get("/documents/commune/feed/")
    assert response.status_code == 301 and response["Location"] == "/documents/paris-commune/feed/"
    check_atom(client, "/documents/paris-commune/feed/")


def test_the_feed_is_well_formed_xml_with_its_declaration(client, db):
    assert client.get(reverse("feed_critiques")).content.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<feed')


def test_control_characters_in_what_a_feed_quotes_leave_it_valid_xml(client, author, moderator, document):
    """XML 1.0 has no place for most control characters: a critique or a summary holding one still gives a feed."""
    from archive.services import document_update

    critique = submit_critique(
        author,
        document.current_revision,
        passage=PASSAGES[0],
        category="factual_error",
        body="A vertical\x0btab and an\x1bescape.",
    )
    approve(critique, moderator)
    document_update(document, base_revision=1, text=SAMPLE_TEXT + "More.\n", summary="Bell\x07 in the summary.")
    for url in [*critique_feeds(document), reverse("feed_revisions")]:
        entries = check_atom(client, url)
        assert entries, url
    content = check_atom(client, reverse("feed_critiques"))[0].find("a:content", ATOM).text
    assert "A vertical tab and an escape." in content


def test_a_sitemap_page_in_other_digits_or_too_long_is_refused(client, db):
    for page in ("²", "٣", "9" * 5000):
        response = client.get(reverse("sitemap_section", args=["documents"]), {"p": page})
        assert response.status_code in (400, 404) and response.status_code != 500, page
    response = client.get(reverse("sitemap_section", args=["documents"]), {"p": "²"})
    assert response.status_code == 400 and b"p:" in response.content
