"""
Usernames at sign-up and in the admin: NFKC-normalised before they are
stored, unique without regard to case, and refused when they look like an
existing or a reserved name (``ѕcholar`` with a Cyrillic ``ѕ``, a full-width
``ＡＤＭＩＮ``).
"""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from pytest_django.asserts import assertContains

from tests.factories import make_user

pytestmark = pytest.mark.django_db

LOOKALIKE = "This username is taken, or looks too much like one that is. Please choose another."
RESERVED = "This username is reserved. Please choose another."


def sign_up(client, username, password, email="newcomer@example.org"):
    return client.post(
        reverse("account_signup"),
        {"username": username, "email": email, "password1": password, "password2": password},
    )


@pytest.mark.parametrize(
    "username, error",
    [
        ("ѕcholar", LOOKALIKE),  # Cyrillic ѕ
        ("ѕсholаr", LOOKALIKE),  # Cyrillic ѕ, с and а
        ("SCHOLAR", "A user with that username already exists."),
        ("ｓｃｈｏｌａｒ", "A user with that username already exists."),  # full width: NFKC makes it "scholar"
        ("ＡＤＭＩＮ", RESERVED),
        ("Аdmin", RESERVED),  # Cyrillic А
        ("moderator", RESERVED),
    ],
)
def test_sign_up_refuses_a_name_that_passes_for_another(client, password, username, error):
    make_user("scholar", verified=True)

    response = sign_up(client, username, password)

    assert response.status_code == 200
    assertContains(response, error)
    assert not get_user_model().objects.filter(email="newcomer@example.org").exists()


def test_a_look_alike_stored_earlier_is_refused_its_original_too(client, password):
    make_user("ѕcholar")  # Cyrillic ѕ, from before the rule

    assertContains(sign_up(client, "scholar", password), LOOKALIKE)


@pytest.mark.parametrize(
    "typed, stored",
    [("ｊｕｌｉｅ", "julie"), ("Zoë", "Zoë"), ("Łukasz", "Łukasz"), ("Иван", "Иван"), ("ﬁona", "fiona")],
)
def test_other_names_are_stored_normalised(client, password, typed, stored):
    response = sign_up(client, typed, password)

    assert response.status_code == 302
    assert get_user_model().objects.get(email="newcomer@example.org").username == stored


def test_the_admin_refuses_a_look_alike_when_adding_a_user(client, superuser, password):
    make_user("scholar")
    client.force_login(superuser)

    response = client.post(
        "/admin/auth/user/add/",
        {"username": "ѕcholar", "password1": password, "password2": password, "usable_password": "true"},
    )

    assert response.status_code == 200
    assertContains(response, LOOKALIKE)
    assert not get_user_model().objects.filter(username="ѕcholar").exists()


def test_the_admin_refuses_renaming_a_user_to_a_look_alike(client, superuser, author):
    make_user("scholar")
    client.force_login(superuser)
    page = client.get(f"/admin/auth/user/{author.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(
        username="ѕcholar", date_joined_0="2026-01-01", date_joined_1="00:00:00", groups=[], user_permissions=[]
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)

    response = client.post(f"/admin/auth/user/{author.pk}/change/", data)

    assertContains(response, LOOKALIKE)
    author.refresh_from_db()
    assert author.username == "ada"
