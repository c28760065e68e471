"""
The admin's login is the site's (allauth's): its lockout, per account, and
its two-factor step apply to staff too, and a password posted to /admin/login/
itself is never checked.
"""

import pytest
from pytest_django.asserts import assertContains, assertRedirects

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed login attempts. Try again later."


def admin_login_form(client):
    """Where /admin/login/ sends a stranger: the site's login form, coming back to the admin."""
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    return response["Location"]


def test_a_password_posted_to_the_admin_login_is_not_checked(client, archivist, password):
    for candidate in ["wrong-1", "wrong-2", password]:
        response = client.post("/admin/login/", {"username": "archie", "password": candidate})
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_repeated_wrong_passwords_at_the_admin_login_lock_out(client, archivist, password):
    login_url = admin_login_form(client)
    for _ in range(5):
        assertContains(client.post(login_url, {"login": "archie", "password": "not-the-password"}), "are not correct")

    assertContains(client.post(login_url, {"login": "archie", "password": password}), LOCKED)
    assert client.get("/admin/").status_code == 302


def test_staff_log_in_to_the_admin_through_the_site_login(client, archivist, password):
    login_url = admin_login_form(client)

    response = client.post(login_url, {"login": "archie", "password": password}, follow=True)

    assertRedirects(response, "/admin/")
    assert client.get("/admin/").status_code == 200


def test_the_admin_login_refuses_logged_in_people_who_are_not_staff(client, author):
    client.force_login(author)

    assert client.get("/admin/login/").status_code == 403
