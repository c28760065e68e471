"""
The reading page's body as every reader sees it is kept per version of the
document (annotations.reading.bodies): drawn once, served to every reader and
to every user who sees what readers see, drawn anew after a visible change
to that document only, never served to anyone who sees more; and a reader
who accepts gzip gets it stitched from the parts compressed when it was drawn.
"""

import gzip
import random
import zlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations import services
from annotations.models import Anchor
from archive.compressed_parts import compressed_part, crc_followed_by, crc_shift, gzip_join, joined_raw
from archive.http import PartsResponse
from archive.services import document_update
from tests.factories import SAMPLE_TEXT, approve, make_document, submit_critique
from tests.pages import text_html

pytestmark = pytest.mark.django_db

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip"}


@pytest.fixture(autouse=True)
def no_page_cache(settings):
    settings.PAGE_CACHE = False  # every request reaches the view


def critique_queries(client, url, **headers):
    """The answer to ``url`` and how many of its queries read the critiques placed on the page (their anchors)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return response, sum(Anchor._meta.db_table in q["sql"] for q in queries)


def margin(page):
    return page.split('id="apparatus-heading"', 1)[1].split("</section>\n  </div>", 1)[0]


def critique(author, document, passage="Some twenty", moderator=None):
    filed = submit_critique(author, document.current_revision, passage=passage, start=SAMPLE_TEXT.index(passage))
    if moderator:
        approve(filed, moderator)
    return filed


def test_a_reader_s_page_is_drawn_once_per_version_of_its_document(client, author, moderator):
    document = make_document(slug="kept")
    critique(author, document, moderator=moderator)

    first, read_first = critique_queries(client, "/documents/kept/")
    again, read_again = critique_queries(client, "/documents/kept/")

    assert read_first == 1 and read_again == 0
    assert again.content == first.content


def test_a_reader_s_kept_page_costs_one_query(client, author, moderator):
    document = make_document(slug="kept")
    critique(author, document, moderator=moderator)
    client.get("/documents/kept/")

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/documents/kept/").status_code == 200

    assert len(queries) == 1  # the document's version, for the ETag (config.caching) and the kept body


def test_a_former_address_is_never_served_a_kept_body(client, author, moderator):
    document = make_document(slug="before")
    critique(author, document, moderator=moderator)
    document_update(document, slug="after")
    client.get("/documents/after/")  # kept at this version, under the current address

    response = client.get("/documents/before/")

    assert response.status_code == 301 and response["Location"].endswith("/documents/after/")


def test_a_query_the_page_doesn_t_read_changes_nothing(client, author, moderator):
    document = make_document(slug="kept")
    critique(author, document, moderator=moderator)
    client.get("/documents/kept/")

    assert critique_queries(client, "/documents/kept/?utm_source=newsletter")[1] == 0


def test_a_user_who_wrote_nothing_there_is_served_the_readers_body(client, author, other, moderator):
    document = make_document(slug="kept")
    critique(author, document, moderator=moderator)
    reader_page = client.get("/documents/kept/").content.decode()
    client.force_login(other)

    response, read = critique_queries(client, "/documents/kept/")
    page = response.content.decode()

    assert read == 0  # the kept body, not drawn again
    assert text_html(page) == text_html(reader_page)
    assert margin(page).replace(margin(page).split("<ol", 1)[0], "") == margin(reader_page).replace(
        margin(reader_page).split("<ol", 1)[0], ""
    )
    assert 'id="critique-form"' in page and "critique-invite" not in page  # their own form, drawn for them
    assert other.get_username() in page.split('id="content"', 1)[0]  # and their own header


def test_an_author_and_a_moderator_are_never_served_the_readers_body(client, author, moderator):
    document = make_document(slug="kept")
    critique(author, document, moderator=moderator)
    pending = critique(author, document, passage="Bloody Week")
    client.get("/documents/kept/")  # the readers' body, kept

    for viewer in (author, moderator):
        client.force_login(viewer)
        response, read = critique_queries(client, "/documents/kept/")
        assert read >= 1
        assert f'id="critique-{pending.pk}"' in response.content.decode()
    client.logout()
    assert f'id="critique-{pending.pk}"' not in client.get("/documents/kept/").content.decode()


def test_a_visible_change_draws_that_document_again_and_no_other(client, author, moderator):
    changed, untouched = make_document(slug="changed"), make_document(slug="untouched")
    critique(author, untouched, moderator=moderator)
    client.get("/documents/changed/")
    client.get("/documents/untouched/")

    approved = critique(author, changed, moderator=moderator)

    response, read = critique_queries(client, "/documents/changed/")
    assert read == 1 and f'id="critique-{approved.pk}"' in response.content.decode()
    assert critique_queries(client, "/documents/untouched/")[1] == 0


def test_a_pending_critique_changes_nothing_readers_see(client, author):
    document = make_document(slug="kept")
    client.get("/documents/kept/")

    pending = critique(author, document)

    response, read = critique_queries(client, "/documents/kept/")
    assert read == 0 and f'id="critique-{pending.pk}"' not in response.content.decode()


def test_the_kept_body_is_drawn_as_a_reader_sees_it_whoever_asks(client, author, moderator, monkeypatch):
    # The author writes between the check that they see what readers see and the drawing of the body.
    document = make_document(slug="kept")
    critique(author, document, moderator=moderator)
    pending = critique(author, document, passage="Bloody Week")
    monkeypatch.setattr("annotations.reading.views.sees_readers_view", lambda user, document_id: True)
    client.force_login(author)
    client.get("/documents/kept/")  # drawn, and kept
    client.logout()

    response, read = critique_queries(client, "/documents/kept/")

    assert read == 0 and f'id="critique-{pending.pk}"' not in response.content.decode()
    assert "Awaiting review" not in response.content.decode()


def test_a_user_who_only_replied_there_is_not_served_the_readers_body(client, author, other, moderator):
    document = make_document(slug="kept")
    published = critique(author, document, moderator=moderator)
    services.reply_submit(author=other, parent=published, body="The register says otherwise.")
    client.get("/documents/kept/")
    client.force_login(other)

    assert critique_queries(client, "/documents/kept/")[1] == 1  # drawn for them: their pending reply counts


def test_a_published_reply_and_a_renamed_author_show_on_the_readers_page(client, author, other, moderator):
    document = make_document(slug="kept")
    published = critique(author, document, moderator=moderator)
    etag = client.get("/documents/kept/")["ETag"]
    approve(services.reply_submit(author=other, parent=published, body="The register says otherwise."), moderator)
    assert ">1 reply" in client.get("/documents/kept/").content.decode()

    author.username = "ada-renamed"
    author.save()

    response = client.get("/documents/kept/")
    assert "by ada-renamed" in response.content.decode() and response["ETag"] != etag


def test_an_address_with_a_query_is_drawn_for_it(client, author, moderator):
    document = make_document(slug="kept")
    critique(author, document, moderator=moderator)
    client.get("/documents/kept/")

    response, read = critique_queries(client, "/documents/kept/?filter=1&category=factual_error")

    assert read == 1 and response.status_code == 200


def test_each_host_has_its_own_body(client, settings, author, moderator):
    settings.ALLOWED_HOSTS = ["archive.example", "mirror.example"]
    document = make_document(slug="kept")
    critique(author, document, moderator=moderator)
    client.get("/documents/kept/", HTTP_HOST="archive.example")

    page = client.get("/documents/kept/", HTTP_HOST="mirror.example").content.decode()

    assert "http://mirror.example/documents/kept/revisions/1/" in page
    assert "archive.example" not in page


def test_a_reader_who_accepts_gzip_gets_the_same_page_stitched(client, author, moderator):
    document = make_document(slug="kept")
    for passage in ("Some twenty", "Bloody Week", "Karl Marx"):
        critique(author, document, passage=passage, moderator=moderator)
    plain = client.get("/documents/kept/").content

    for _ in range(2):  # drawn and compressed, then kept
        response = client.get("/documents/kept/", **GZIP)
        assert response["Content-Encoding"] == "gzip"
        assert gzip.decompress(response.content) == plain
        assert int(response["Content-Length"]) == len(response.content)


def test_an_answer_whose_content_changes_forgets_its_compressed_parts(client):
    parts = [b"<p>", compressed_part(b"kept " * 100), b"</p>"]
    for change in (lambda r: setattr(r, "content", b"changed"), lambda r: r.write(b"more")):
        response = PartsResponse(parts)
        assert response.compressed_parts is parts and response.content == joined_raw(parts)
        change(response)
        assert response.compressed_parts is None


# The stitching itself (archive.compressed_parts).


def test_parts_compressed_apart_make_one_gzip_stream():
    rng = random.Random(1871)
    for _ in range(200):
        parts = []
        for _ in range(rng.randint(0, 7)):
            raw = bytes(rng.choice(b"<p>Commune \n") for _ in range(rng.randint(0, 3000)))
            parts.append(compressed_part(raw) if rng.random() < 0.5 else raw)
        stream = gzip_join(parts)
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip's own checks: CRC-32 and length
        assert inflate.decompress(stream) == joined_raw(parts)
        assert inflate.eof and not inflate.unused_data


def test_a_crc_is_carried_past_a_part_as_zlib_computes_it_over_the_whole():
    rng = random.Random(5)
    for length in (0, 1, 7, 8, 255, 4096, 100_003):
        head, tail = rng.randbytes(rng.randint(0, 50)), rng.randbytes(length)
        part = compressed_part(tail)
        assert part.shift == crc_shift(length)
        assert crc_followed_by(zlib.crc32(head), part) == zlib.crc32(head + tail)
