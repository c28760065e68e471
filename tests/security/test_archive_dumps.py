"""
Tampered archive dumps (``import_archive``, ``verify_archive``).

Without the archive key nobody can make a dump that is accepted: one byte
changed, a recomputed plain checksum, an added superuser, HTML slipped into a
wording are all refused, with nothing written. A dump that is correctly
signed (``signed`` below plays the holder of the key) still can't make an
administrator, can't put HTML of its own on a page (the wording is rendered
again from its Markdown: a ``<meta http-equiv=refresh>`` never reaches
Chromium) and can't store a text the archive's text rule refuses.
"""

import hashlib
import hmac
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from annotations.export import DumpError, export_archive, import_archive, verify_archive
from annotations.models import Critique, CritiqueVersion
from annotations.search import critiques_index
from archive.models import Document, Revision
from archive.search import documents_index
from tests.factories import PASSWORD, approve, make_document, make_moderator, make_scholar, submit_critique

pytestmark = pytest.mark.django_db(transaction=True)
KEY = "archive-key-for-the-security-tests-0123456789"
REFRESH = '<meta http-equiv="refresh" content="0;url=https://example.invalid/stolen">'


@pytest.fixture(autouse=True)
def archive_key(settings):
    settings.ARCHIVE_KEY = KEY


@pytest.fixture
def dump_lines():
    mona = make_moderator("mona")
    critique = approve(
        submit_critique(
            make_scholar("ada"), make_document().current_revision, "Karl Marx wrote", category="factual_error"
        ),
        mona,
    )
    out = io.StringIO()
    export_archive(out)
    call_command("flush", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        for index in (documents_index, critiques_index):
            cursor.execute(f"DELETE FROM {index.table}")
    return out.getvalue().splitlines(keepends=True), critique.pk


def line(record):
    # Escaped as a file can only hold them: a lone surrogate is no UTF-8.
    return json.dumps(record, sort_keys=True) + "\n"


def edited(lines, kind, change):
    """The dump with ``change`` applied to its first record of ``kind``."""
    for index, text in enumerate(lines):
        record = json.loads(text)
        if record["type"] == kind:
            change(record)
            return lines[:index] + [line(record)] + lines[index + 1 :]
    raise AssertionError(f"no {kind} record")


def signed(lines):
    """The dump signed again with the key, as its rightful holder would sign it."""
    end = json.loads(lines[-1])
    end["signature"] = hmac.new(
        KEY.encode(), "".join(lines[:-1]).encode("utf-8", "surrogatepass"), hashlib.sha256
    ).hexdigest()
    return lines[:-1] + [line(end)]


def recounted(lines, kind, more=1):
    end = json.loads(lines[-1])
    end["counts"][kind] += more
    return lines[:-1] + [line(end)]


def nothing_written():
    return not (
        get_user_model().objects.exists()
        or Document.objects.exists()
        or Revision.objects.exists()
        or Critique.objects.exists()
    )


def refused(lines, message):
    text = "".join(lines)
    with pytest.raises(DumpError, match=message):
        verify_archive(io.StringIO(text))
    with pytest.raises(CommandError, match=f"Nothing imported. .*{message}"):
        call_command("import_archive", "-", stdin=io.StringIO(text))
    assert nothing_written()


def one_byte_changed(lines):
    index = next(i for i, text in enumerate(lines) if '"type": "revision"' in text)
    changed = lines[index].replace("Commune", "Communf", 1)
    assert len(changed) == len(lines[index]) and changed != lines[index]
    return lines[:index] + [changed] + lines[index + 1 :]


def recomputed_checksums(lines):
    """Text changed, its SHA-256 and a plain checksum of the whole dump recomputed: all anyone can do without the key."""

    def change(record):
        record["text"] = record["text"].replace("Commune", "Kommune")
        record["sha256"] = hashlib.sha256(record["text"].encode()).hexdigest()

    lines = edited(lines, "revision", change)
    end = json.loads(lines[-1])
    end["sha256"] = hashlib.sha256("".join(lines[1:-1]).encode()).hexdigest()
    return lines[:-1] + [line(end)]


def superuser_added(lines):
    user = json.loads(lines[1])
    user.update(id=999, username="intruder", is_staff=True, is_superuser=True)
    return recounted(lines[:2] + [line(user)] + lines[2:], "user")


def html_slipped_in(lines):
    return edited(lines, "critique", lambda record: record["versions"][0].update(body_html=REFRESH))


def body_rewritten(lines):
    return edited(lines, "critique", lambda record: record["versions"][0].update(body=REFRESH))


@pytest.mark.parametrize(
    "tamper",
    [one_byte_changed, recomputed_checksums, superuser_added, html_slipped_in, body_rewritten],
    ids=["one-byte", "recomputed-checksums", "added-superuser", "raw-html", "rewritten-markdown"],
)
def test_a_tampered_dump_is_refused_and_nothing_is_written(dump_lines, tamper):
    lines, _critique = dump_lines
    refused(tamper(lines), "signature does not match")


def test_a_signed_dump_makes_no_administrator(dump_lines):
    lines, _critique = dump_lines
    err = io.StringIO()
    call_command("import_archive", "-", stdin=io.StringIO("".join(signed(superuser_added(lines)))), stderr=err)
    intruder = get_user_model().objects.get(username="intruder")
    assert not intruder.is_staff and not intruder.is_superuser and not intruder.has_usable_password()
    assert "intruder (superuser and staff)" in err.getvalue()
    # Even given a password, the account gets no further than a reader.
    intruder.set_password(PASSWORD)
    intruder.save()
    client = Client()
    client.force_login(intruder)
    assert client.get("/admin/").status_code == 302


def test_a_signed_dump_puts_no_html_of_its_own_on_a_page(dump_lines, open_page):
    lines, critique_pk = dump_lines
    lines = edited(
        lines,
        "critique",
        lambda record: record["versions"][0].update(body_html=REFRESH, body=f"Stay here. {REFRESH}"),
    )
    import_archive(io.StringIO("".join(signed(lines))))
    assert "<meta" not in CritiqueVersion.objects.get(critique_id=critique_pk).body_html

    for path in (f"/critiques/{critique_pk}/", "/documents/commune/"):
        page = open_page(bypass_csp=True)
        page.goto(path)
        page.wait_for_load_state("load")
        assert page.locator("meta[http-equiv]").count() == 0
        assert page.url.endswith(path)
        assert "Stay here." in page.content()
        assert page.problems == []


@pytest.mark.parametrize(
    "kind, change, named",
    [
        (
            "critique",
            lambda record: record["versions"][0]["evidence"][0].update(title="T\ud800itle"),
            r"critique \d+, field versions\[0\]\.evidence\[0\]\.title: .*lone surrogate \(U\+D800\)",
        ),
        ("user", lambda record: record.update(first_name="A\x00da"), r"user '\w+', field first_name: .*NUL"),
        ("document", lambda record: record.update(title="Com\udfffmune"), r"document 'commune', field title"),
    ],
    ids=["surrogate-in-evidence", "nul-in-account", "surrogate-in-document"],
)
def test_a_signed_dump_with_unstorable_text_is_refused_naming_record_and_field(dump_lines, kind, change, named):
    lines, _critique = dump_lines
    refused(signed(edited(lines, kind, change)), named)
