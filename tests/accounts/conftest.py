"""Fixtures for the account tests: a verified user."""
import pytest


@pytest.fixture
def password():
    return "marginal-notes-1871"


@pytest.fixture
def rosa(db, django_user_model, password):
    """A registered user whose email address is verified."""
    from allauth.account.models import EmailAddress

    user = django_user_model.objects.create_user("rosa", email="rosa@example.org", password=password)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user
