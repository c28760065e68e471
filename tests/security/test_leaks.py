"""
No unpublished word reaches anyone who may not read it.

The ``world`` fixture plants a marker (``SECRETMARK…``) in everything only a
critique's author and the moderators may read: the body, evidence URL, title
and note of pending, rejected, changes-requested, withdrawn and hidden
critiques, the proposed (and the refused) change to published critiques,
moderators' reasons and a reader's flag; and the replies: pending, rejected,
a pending change to a published one, and a published reply whose critique
was hidden since. Every GET address of the permission
table, and the variants where a leak could hide (each critique's own
addresses, API filters, searches for the markers, W3C containers, pages and
Prefer variants, ``has_critiques``, the admin), is fetched as an anonymous
reader, another scholar and an archivist who is not a moderator: the marker
appears in no body and no header, and every count equals the number of
critiques that reader may see.

Exports (``manage.py export_archive``) hold everything by design: a command
for administrators, with no HTTP address (the permission table would list it).
"""

import re
from urllib.parse import quote, quote_plus

import pytest

from tests.factories import seed_slugs
from tests.security.permissions import all_routes, cases_for
from tests.security.world import ANONYMOUS, AUTHOR, MARK, MODERATOR, OTHER, OUTSIDERS, secret

W3C = "http://www.w3.org/ns/oa#"
PREFER = [
    f'return=representation;include="{W3C}PreferContainedIRIs"',
    f'return=representation;include="{W3C}PreferContainedDescriptions"',
    'return=representation;include="http://www.w3.org/ns/ldp#PreferMinimalContainer"',
    "return=minimal",
]
MARKERS = [
    secret(state, place)
    for state in (
        "pending",
        "rejected",
        "changes",
        "withdrawn",
        "hidden",
        "change",
        "refused",
        "secretdoc",
        "replypending",
        "replyrejected",
        "replychange",
        "replyhidden",
    )
    for place in ("body", "title", "note", "url")
]


def addresses(world):
    """``(url, headers)`` of every GET to try: the table's, and more where a leak could hide."""
    urls = []
    for route in all_routes():
        for case in cases_for(route):
            if "GET" in case.methods:
                urls.append((case.url(world), case.headers))
    for critique in [*world.critiques.values(), *world.replies.values()]:
        for path in (
            "/critiques/{}/",
            "/critiques/{}/edit/",
            "/critiques/{}/withdraw/",
            "/api/annotations/{}/",
            "/api/annotations/{}/events/",
            "/api/annotations/{}/replies/",
            "/admin/annotations/critique/{}/change/",
        ):
            urls.append((path.format(critique.pk), {}))
        urls.append((f"/api/annotations/{critique.pk}/", {"HTTP_ACCEPT": "application/ld+json"}))
        urls.append((f"/api/annotations/{critique.pk}/replies/?page_size=1", {}))
    for slug in (world.document.slug, world.secret_document.slug):
        urls += [(f"/documents/{slug}/", {}), (f"/documents/{slug}/revisions/1/", {}), (f"/api/documents/{slug}/", {})]
        container = f"/api/documents/{slug}/annotations/"
        urls += [
            (container, {}),
            (container + "?page=0", {}),
            (container + "?page=0&iris=1", {}),
            (container, {"HTTP_ACCEPT": "application/json"}),
        ]
        urls += [(container, {"HTTP_PREFER": prefer}) for prefer in PREFER]
    filters = [
        "status=" + status for status in ("pending", "approved", "rejected", "changes_requested", "withdrawn", "hidden")
    ]
    filters += [
        "document=commune",
        "document=commune&revision=2",
        "document=secret-doc",
        "author=ada",
        "mine=false",
        "mine=true",
        "category=anachronism",
        "category=unsourced_claim",
        "ordering=-created",
        "ordering=start",
        "page_size=200",
    ]
    urls += [(f"/api/annotations/?{query}", {}) for query in filters]
    urls += [(f"/api/documents/?has_critiques={value}", {}) for value in ("true", "false")]
    for marker in MARKERS[::4] + ["SECRETMARK"]:
        urls += [
            (f"/search/?q={marker}", {}),
            (f"/documents/?q={marker}", {}),
            (f"/api/documents/?q={marker}", {}),
            (f"/admin/archive/document/?q={marker}", {}),
        ]
    urls += [
        ("/search/?q=explanation", {}),
        ("/moderation/?status=all", {}),
        ("/me/critiques/", {}),
        ("/admin/annotations/critique/?q=SECRETMARK", {}),
        ("/admin/annotations/flag/", {}),
    ]
    return list(dict.fromkeys((url, tuple(headers.items())) for url, headers in urls))


def without_echo(text, url):
    """The body less the search words the page repeats back (``?q=…``): they aren't a leak."""
    match = re.search(r"[?&]q=([^&]*)", url)
    if match:
        for echo in {match.group(1), quote(match.group(1)), quote_plus(match.group(1))}:
            text = text.replace(echo, "")
    return text


@pytest.mark.parametrize("role", OUTSIDERS)
def test_no_unpublished_text_reaches_outsiders(role, world, clients):
    client, leaks = clients[role], []
    for url, headers in addresses(world):
        response = client.get(url, **dict(headers))
        assert response.status_code < 500, f"GET {url} as {role}: {response.status_code}"
        body = without_echo(response.content.decode("utf-8", "replace"), url)
        found = sorted(set(re.findall(MARK + r"\w*", body)))
        found += [f"header {name}" for name, value in response.headers.items() if MARK in without_echo(value, url)]
        if found:
            leaks.append(f"GET {url} {dict(headers) or ''} ({response.status_code}): {', '.join(found)}")
    assert not leaks, f"as {role}:\n" + "\n".join(leaks)


def test_the_markers_are_there_for_those_who_may_read_them(world, clients):
    """The check above can fail: the author and the moderators do get the planted texts."""
    pending = world.critiques["pending"].pk
    page = clients[AUTHOR].get(f"/critiques/{pending}/").content.decode()
    for place in ("body", "title", "note", "url"):
        assert secret("pending", place) in page
    assert secret("change", "body") in clients[AUTHOR].get("/api/annotations/?mine=true").content.decode()
    approved = world.critiques["approved"].pk
    for client in (clients[AUTHOR], clients[MODERATOR]):
        page = client.get(f"/critiques/{approved}/").content.decode()
        for state in ("replypending", "replyrejected", "replychange"):
            assert secret(state, "body") in page
        assert secret("replypending", "url") in client.get(f"/api/annotations/{approved}/replies/").content.decode()
        reply = world.replies["on_hidden"].pk
        assert secret("replyhidden", "body") in client.get(f"/api/annotations/{reply}/").content.decode()
    queue = clients[MODERATOR].get("/moderation/?status=all").content.decode()
    for marker in (secret("flag", "reason"), secret("hidden", "body"), secret("change", "body")):
        assert marker in queue
    events = clients[AUTHOR].get(f"/api/annotations/{world.critiques['rejected'].pk}/events/")
    assert secret("rejected", "reason") in events.content.decode()


@pytest.mark.parametrize("role", OUTSIDERS)
def test_searching_for_a_marker_finds_nothing(role, world, clients):
    """The leak check above can't tell a found marker from the query echoed back: the counts can."""
    client = clients[role]
    for marker in MARKERS:
        page = client.get(f"/search/?q={marker}").content.decode()
        assert 'Documents <span class="count">(0)</span>' in page, marker
        assert 'Published critiques <span class="count">(0)</span>' in page, marker
        assert client.get(f"/api/documents/?q={marker}").json()["count"] == 0
        assert re.search(r"\b0 documents\b", client.get(f"/documents/?q={marker}").content.decode())


# --- Counts --------------------------------------------------------------------


def api_count(client, query):
    """How many critiques ``/api/annotations/?query`` lists, every page followed; ``count`` must agree."""
    url, listed = f"/api/annotations/?{query}", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        data = response.json()
        listed += len(data["results"])
        url = data.get("next")
    if "count" in data:
        assert data["count"] == listed
    return listed


def container_total(client, slug):
    data = client.get(f"/api/documents/{slug}/annotations/").json()
    page = client.get(f"/api/documents/{slug}/annotations/?page=0").json()
    assert page["partOf"]["total"] == data["total"] == len(page["items"])
    return data["total"]


@pytest.mark.parametrize("role", (ANONYMOUS, OTHER, "archivist"))
def test_counts_are_what_the_reader_may_see(role, world, clients):
    client = clients[role]
    public = len(world.public)
    assert public == 4, "approved, a pending change, a refused change and a flagged one are public"
    assert api_count(client, "") == public
    assert api_count(client, "page_size=1") == public
    assert api_count(client, "document=commune") == public
    assert api_count(client, "document=commune&revision=2") == public
    assert api_count(client, "document=secret-doc") == 0
    assert api_count(client, "author=ada") == public
    assert api_count(client, "status=approved") == public
    for status in ("pending", "rejected", "changes_requested", "withdrawn", "hidden"):
        assert api_count(client, f"status={status}") == 0, status
    # The changes (to "anachronism") await review or were refused: readers filter on the published wording.
    assert api_count(client, "category=anachronism") == 0
    assert api_count(client, "category=unsourced_claim") == public
    replies = len(world.public_replies)
    assert replies == 2, "the approved reply and the one with a pending change"
    assert container_total(client, "commune") == public + replies
    assert container_total(client, "secret-doc") == 0
    approved = world.critiques["approved"].pk
    listed = client.get(f"/api/annotations/{approved}/replies/").json()["results"]
    assert sorted(item["id"] for item in listed) == sorted(reply.pk for reply in world.public_replies)
    assert {item["status"] for item in listed} == {"approved"}
    hidden = world.critiques["hidden"].pk
    assert client.get(f"/api/annotations/{hidden}/replies/").status_code == 410
    note = re.search(
        rf'id="critique-{approved}".*?class="note-foot">.*?</p>',
        client.get("/documents/commune/").content.decode(),
        re.S,
    )
    assert f">{replies} replies<" in note.group(0)
    page = client.get(f"/critiques/{approved}/").content.decode()
    assert page.count('<li class="reply') == replies
    reading = client.get("/documents/commune/").content.decode()
    assert f'<span class="count">({public})</span>' in reading
    assert '<span class="count">(0)</span>' in client.get("/documents/secret-doc/").content.decode()
    with_critiques, without = (
        [item["slug"] for item in client.get(f"/api/documents/?has_critiques={value}").json()["results"]]
        for value in ("true", "false")
    )
    # Besides the seed collection's documents, which have no critiques.
    assert (with_critiques, sorted(without)) == (["commune"], sorted(["secret-doc", *seed_slugs()]))
    # Every critique's explanation holds "explanation"; only the published ones are found.
    search = client.get("/search/?q=explanation").content.decode()
    assert re.search(rf"Published critiques <span class=\"count\">\({public}\)</span>", search)


def test_counts_for_the_author_include_their_own(world, clients):
    """The same counts move for the author, so the ones above can fail."""
    client = clients[AUTHOR]
    assert api_count(client, "") == len(world.critiques)
    assert api_count(client, "status=pending") == 3  # the pending one and both published ones with a change
    assert container_total(client, "secret-doc") == 1
    # All hers but the secret document's, and the withdrawn one: a W3C DELETE, so in no container.
    assert container_total(client, "commune") == len(world.critiques) - 2 + len(world.replies)
    approved = world.critiques["approved"].pk
    assert len(client.get(f"/api/annotations/{approved}/replies/").json()["results"]) == 4  # all hers on it
    note = re.search(
        rf'id="critique-{approved}".*?class="note-foot">.*?</p>',
        client.get("/documents/commune/").content.decode(),
        re.S,
    )
    assert ">4 replies<" in note.group(0)
