"""People and a document shared by the critique tests: ada writes, bela reads, mona moderates."""
import pytest

from tests.annotations.factories import make_document, make_moderator, make_scholar, submit_critique


@pytest.fixture
def document(db):
    return make_document()


@pytest.fixture
def revision(document):
    return document.current_revision


@pytest.fixture
def author(db):
    return make_scholar("ada")


@pytest.fixture
def other(db):
    return make_scholar("bela")


@pytest.fixture
def moderator(db):
    return make_moderator("mona")


@pytest.fixture
def critique(author, revision):
    return submit_critique(author, revision)
