"""
The site's edge (``config.edge``): query strings and form bodies, checked
byte for byte before any view runs.
"""

import pytest
from django.test.client import BOUNDARY, encode_multipart

from annotations.models import Flag
from tests.api_helpers import assert_error
from tests.factories import approve, submit_critique

pytestmark = pytest.mark.django_db

# Not Django's MULTIPART_CONTENT itself, which makes the test client encode a dict: these bodies are raw.
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture
def published(author, revision, moderator):
    return approve(submit_critique(author, revision), moderator)


def flag_url(critique):
    return f"/critiques/{critique.pk}/flag/"


def multipart(*parts):
    """A multipart body from ``(headers, value)`` parts, as raw bytes."""
    body = b""
    for headers, value in parts:
        body += f"--{BOUNDARY}\r\n".encode() + headers + b"\r\n\r\n" + value + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


@pytest.mark.parametrize(
    "query",
    ["q=Commune", "q=%EF%BF%BD", "q=%F0%9F%98%80+%C3%A9t%C3%A9", "q=", "q", "&&", "q=a%2Bb&q=c"],
)
def test_valid_utf8_queries_pass(client, document, query):
    # A real U+FFFD, an emoji, accents, empty values: all text.
    assert client.get(f"/search/?{query}").status_code == 200


def test_a_raw_invalid_byte_in_the_query_string_is_refused(client, document):
    # Raw (not percent-encoded) bytes reach the server as latin-1 characters in QUERY_STRING.
    response = client.get("/search/", QUERY_STRING="q=caf\xe9")

    assert response.status_code == 400
    assert "<strong>q</strong>" in response.content.decode()


def test_refusals_under_the_api_are_in_the_error_shape(client, document):
    body = assert_error(client.get("/api/annotations/?document=%ED%A0%80"), 400, "document")

    assert body["code"] == "invalid"
    assert "not valid UTF-8" in body["detail"]


def test_an_urlencoded_form_with_a_nul_is_refused_and_writes_nothing(client, other, published):
    client.force_login(other)

    response = client.post(flag_url(published), "reason=Wrong%00", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    assert "<strong>reason</strong>" in response.content.decode()
    assert not Flag.objects.exists()


def test_a_valid_form_still_goes_through(client, other, published):
    client.force_login(other)

    response = client.post(flag_url(published), {"reason": "Wrong date: see the minutes �."})

    assert response.status_code == 302
    assert Flag.objects.get().reason == "Wrong date: see the minutes �."


@pytest.mark.parametrize(
    "part",
    [
        (b'Content-Disposition: form-data; name="reason"', b"caf\xe9"),
        (b'Content-Disposition: form-data; name="reason"', b"nul\x00"),
        (b'Content-Disposition: form-data; name="reason"\r\nContent-Transfer-Encoding: base64', b"Y2Fm6Q=="),
        (b"Content-Disposition: form-data; name*=utf-8''reason%00", b"x"),
        (b'Content-Disposition: form-data; name="reason"; filename="a\x00.txt"', b"file"),
    ],
    ids=["invalid-utf8", "nul", "base64-invalid-utf8", "nul-in-name", "nul-in-filename"],
)
def test_multipart_forms_are_checked_byte_for_byte(client, other, published, part):
    client.force_login(other)

    response = client.post(flag_url(published), multipart(part), content_type=MULTIPART)

    assert response.status_code == 400
    assert "<strong>reason" in response.content.decode()
    assert not Flag.objects.exists()


def test_a_valid_multipart_form_goes_through(client, other, published):
    client.force_login(other)
    body = encode_multipart(BOUNDARY, {"reason": "Déjà vu — 😀."})

    response = client.post(flag_url(published), body, content_type=MULTIPART)

    assert response.status_code == 302
    assert Flag.objects.get().reason == "Déjà vu — 😀."


@pytest.mark.parametrize("charset", ["iso-8859-1", "utf-16", "nonsense"])
def test_a_form_in_another_charset_is_415(client, other, published, charset):
    client.force_login(other)

    response = client.generic(
        "POST", flag_url(published), b"reason=caf%E9", f"application/x-www-form-urlencoded; charset={charset}"
    )

    assert response.status_code == 415
    assert "<strong>Content-Type</strong>" in response.content.decode()
    assert not Flag.objects.exists()


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8"])
def test_utf8_may_be_declared(client, other, published, charset):
    client.force_login(other)

    response = client.post(
        flag_url(published),
        "reason=D%C3%A9j%C3%A0",
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
    )

    assert response.status_code == 302
    assert Flag.objects.get().reason == "Déjà"
