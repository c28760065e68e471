"""Archivists record revisions in the admin through the same rule as everywhere else."""

import pytest
from django.contrib.auth.models import Group

from archive.models import Document, Revision
from archive.services import revision_create

pytestmark = pytest.mark.django_db
ENCYCLOPEDIA = "paris-commune-of-1871"


def _form_data(document, **changes):
    data = {
        "slug": document.slug,
        "title": document.title,
        "kind": document.kind,
        "language": document.language,
        "author": document.author,
        "site": document.site,
        "original_url": document.original_url,
        "published": document.published,
        "captured": document.captured,
        "rights": document.rights,
        "notes": document.notes,
        "new_text": document.current_revision.text,
        "edit_summary": "",
        "base_revision": document.revision_count,
        "revisions-TOTAL_FORMS": "0",
        "revisions-INITIAL_FORMS": "0",
        "revisions-MIN_NUM_FORMS": "0",
        "revisions-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def _change_url(document):
    return f"/admin/archive/document/{document.pk}/change/"


def test_groups_exist_with_their_permissions():
    archivists = Group.objects.get(name="Archivists")
    assert set(archivists.permissions.values_list("codename", flat=True)) >= {
        "add_document",
        "change_document",
        "view_revision",
        "add_revision",
    }
    assert Group.objects.filter(name="Moderators").exists()
    assert not archivists.permissions.filter(codename__in=["change_revision", "delete_revision"]).exists()


def test_archivist_records_a_new_revision(client, archivist, seed_collection):
    document = seed_collection[ENCYCLOPEDIA]
    client.force_login(archivist)
    page = client.get(_change_url(document))
    assert page.status_code == 200
    assert "Capture as received." in page.content.decode()  # the read-only history
    text = document.current_revision.text.replace("Paris Commune", "Commune of Paris", 1)
    response = client.post(_change_url(document), _form_data(document, new_text=text, edit_summary="Reword"))
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.revision_count == 3
    revision = document.current_revision
    assert (revision.summary, revision.created_by, revision.parent) == ("Reword", archivist, 2)


def test_changed_text_needs_a_summary(client, archivist, seed_collection):
    document = seed_collection[ENCYCLOPEDIA]
    client.force_login(archivist)
    response = client.post(_change_url(document), _form_data(document, new_text="New text"))
    assert response.status_code == 200
    assert "An edit summary is required." in response.content.decode()
    assert document.revisions.count() == 2


def test_unchanged_text_records_nothing_but_saves_metadata(client, archivist, seed_collection):
    document = seed_collection[ENCYCLOPEDIA]
    client.force_login(archivist)
    response = client.post(_change_url(document), _form_data(document, rights="CC BY-SA 3.0"))
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.rights == "CC BY-SA 3.0"
    assert document.revisions.count() == 2


def test_stale_form_is_a_conflict_and_nothing_is_saved(client, archivist, seed_collection):
    document = seed_collection[ENCYCLOPEDIA]
    client.force_login(archivist)
    stale = _form_data(document, new_text="My edit", edit_summary="Mine", rights="changed")
    revision_create(document, text="Someone else's edit", summary="Theirs", base_revision=2)
    response = client.post(_change_url(document), stale)
    assert response.status_code == 200
    assert "now at revision 3" in response.content.decode()
    document.refresh_from_db()
    assert document.revision_count == 3
    assert document.current_revision.text == "Someone else's edit"
    assert document.rights == ""


def test_archivist_adds_a_document_with_its_first_revision(client, archivist, db):
    client.force_login(archivist)
    response = client.post(
        "/admin/archive/document/add/",
        {
            "slug": "new-source",
            "title": "New source",
            "kind": "primary_source",
            "language": "fr",
            "author": "",
            "site": "",
            "original_url": "",
            "published": "1871-03",
            "captured": "",
            "rights": "",
            "notes": "",
            "new_text": "Vive la Commune !\r\n",
            "edit_summary": "Transcribed",
            "base_revision": "0",
            "revisions-TOTAL_FORMS": "0",
            "revisions-INITIAL_FORMS": "0",
            "revisions-MIN_NUM_FORMS": "0",
            "revisions-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302
    document = Document.objects.get(slug="new-source")
    assert document.current_revision.text == "Vive la Commune !\n"


def test_revisions_cannot_be_changed_or_deleted_in_the_admin(admin_client, seed_collection):
    revision = Revision.objects.first()
    assert admin_client.post(f"/admin/archive/revision/{revision.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get(f"/admin/archive/revision/{revision.pk}/change/").status_code == 200
    assert Revision.objects.filter(pk=revision.pk).exists()


def test_readers_cannot_use_the_admin(client, seed_collection, other):
    client.force_login(other)
    assert client.get("/admin/archive/document/").status_code == 302


def test_admin_bad_object_id_is_not_a_crash(admin_client, seed_collection):
    assert admin_client.get("/admin/archive/document/not-a-number/change/").status_code == 302
