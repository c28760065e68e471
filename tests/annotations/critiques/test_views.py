"""
Filing, reading, editing, withdrawing and flagging critiques through the
pages, for each role; the errors a scholar gets; rate limits; and the rule
that nobody but the author and moderators ever sees an unpublished critique.
"""

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from pytest_django.asserts import assertRedirects

from annotations import services
from annotations.models import Critique, Flag, Status
from tests.factories import SAMPLE_TEXT, approve, decide, make_moderator, submit_critique

pytestmark = pytest.mark.django_db

CREATE = "/documents/commune/revisions/1/critiques/"
SECRET = "UNPUBLISHED-MARKER-91c2"


def critique_data(**changes):
    passage = "Some twenty thousand"
    data = {
        "exact": passage,
        "start": SAMPLE_TEXT.index(passage),
        "end": SAMPLE_TEXT.index(passage) + len(passage),
        "prefix": "",
        "suffix": "",
        "category": "disputed_figure",
        "body": "Between **10,000** and 20,000, depending on the source.",
        "evidence_1_url": "https://example.org/tombs",
        "evidence_1_title": "Tombs, *The Paris Commune 1871*",
        "evidence_1_note": "Chapter 7.",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def page_of(response):
    return response.content.decode()


# Filing a critique


def test_scholar_files_a_critique_and_lands_on_its_permalink(client, document, author):
    client.force_login(author)
    response = client.post(CREATE, critique_data(), follow=True)
    critique = Critique.objects.get()
    assertRedirects(response, f"/critiques/{critique.pk}/")
    assert "Your critique is awaiting review" in page_of(response)
    assert (critique.start, critique.end, critique.exact) == (68, 88, "Some twenty thousand")
    assert critique.author == author and critique.status == Status.PENDING
    assert critique.prefix == SAMPLE_TEXT[36:68] and critique.suffix == SAMPLE_TEXT[88:120]
    assert critique.version.evidence == [
        {"url": "https://example.org/tombs", "title": "Tombs, *The Paris Commune 1871*", "note": "Chapter 7."}
    ]
    assert "<strong>10,000</strong>" in critique.version.body_html


def test_a_typed_quote_is_found_by_the_server(client, document, author):
    client.force_login(author)
    # Browsers send a textarea's line breaks as CRLF; the text has LF.
    data = critique_data(exact="Bloody Week.\r\n\r\nThe Vendôme", start="", end="", category="unsourced_claim")
    response = client.post(CREATE, data)
    assert response.status_code == 302
    critique = Critique.objects.get()
    assert critique.exact == "Bloody Week.\n\nThe Vendôme"
    assert SAMPLE_TEXT[critique.start : critique.end] == critique.exact


def test_context_disambiguates_a_repeated_quote(client, document, author):
    client.force_login(author)
    data = critique_data(exact="1871", start="", end="", prefix="on 16 May ", category="unsourced_claim")
    assert client.post(CREATE, data).status_code == 302
    assert Critique.objects.get().start == SAMPLE_TEXT.index("16 May 1871") + len("16 May ")


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"exact": "Napoleon", "start": "", "end": ""}, "exact", "The quoted passage is not in this revision."),
        ({"exact": "1871", "start": "", "end": ""}, "exact", "occurs 2 times"),
        ({"exact": "  \r\n ", "start": "", "end": ""}, "exact", "The quoted passage is blank"),
        ({"start": 0, "end": 20}, "exact", "is not the quoted passage"),
        ({"start": 5, "end": ""}, "exact", "Give both start and end"),
        (
            {"evidence_1_url": "", "evidence_1_title": "", "evidence_1_note": ""},
            "evidence",
            "A critique of this kind (disputed figure) needs at least one source.",
        ),
        (
            {"evidence_1_url": "javascript:alert(1)"},
            "evidence_1_url",
            "Source 1, web address: give a web address starting with http",
        ),
        (
            {"evidence_2_url": "https://example.org/b"},
            "evidence_2_title",
            "Source 2, title: give the source&#x27;s title.",
        ),
        ({"body": "x" * 10_001}, "body", "Keep the explanation under 10,000 characters"),
        ({"body": "   "}, "body", "Explain the critique."),
        ({"category": "gossip"}, "category", "Select a valid choice."),
        ({"category": ""}, "category", "Choose a category."),
        ({"start": "abc"}, "exact", "select the passage again"),
    ],
)
def test_bad_critiques_are_refused_with_the_reason_and_nothing_is_written(
    client,
    document,
    author,
    changes,
    field,
    message,
):
    client.force_login(author)
    response = client.post(CREATE, critique_data(**changes))
    assert response.status_code == 400
    page = page_of(response)
    assert message in page
    assert "Your critique was not filed" in page
    assert Critique.objects.count() == 0
    form = response.context["form"]
    if field == "evidence":
        assert any(message.replace("&#x27;", "'") in error for error in form.evidence_errors)
    else:
        assert form.errors[field]
    # The scholar keeps what they wrote, on the same reading page.
    assert 'id="critique-form-box" open' in page
    assert 'id="document-text"' in page


def test_the_form_is_re_shown_with_the_quote_intact(client, document, author):
    client.force_login(author)
    response = client.post(CREATE, critique_data(body=""))
    assert ">\nSome twenty thousand</textarea>" in page_of(response)


def test_filing_needs_a_login_a_post_and_a_csrf_token(client, document, author):
    response = client.post(CREATE, critique_data())
    assertRedirects(response, f"/accounts/login/?next={CREATE}", fetch_redirect_response=False)
    client.force_login(author)
    assert client.get(CREATE).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(author)
    assert strict.post(CREATE, critique_data()).status_code == 403
    assert client.post("/documents/commune/revisions/9/critiques/", critique_data()).status_code == 404
    assert Critique.objects.count() == 0


@override_settings(CRITIQUE_RATE="2/h")
def test_critiques_are_rate_limited_per_user(client, document, author, other):
    client.force_login(author)
    for passage in ("The Commune", "Karl Marx"):
        data = critique_data(
            exact=passage, start=SAMPLE_TEXT.index(passage), end=SAMPLE_TEXT.index(passage) + len(passage)
        )
        assert client.post(CREATE, data).status_code == 302
    response = client.post(CREATE, critique_data())
    assert response.status_code == 429
    assert "You can file up to 2 an hour" in page_of(response)
    assert Critique.objects.count() == 2
    client.force_login(other)  # another scholar has their own allowance
    assert client.post(CREATE, critique_data()).status_code == 302


# The permalink


def test_permalink_shows_the_passage_in_context_and_the_public_history(client, revision, author, moderator):
    critique = submit_critique(author, revision, category="factual_error", body="Wrong *count*.")
    decide(critique, moderator, "request_changes", f"Say which source {SECRET}.")
    services.critique_edit(
        critique,
        user=author,
        category="factual_error",
        body="Better.",
        evidence=[{"url": "https://example.org/a", "title": "A source", "note": ""}],
    )
    approve(critique, moderator)
    page = page_of(client.get(f"/critiques/{critique.pk}/"))
    assert "The passage states something that the evidence shows to be false." in page
    assert '<mark class="passage">Some twenty thousand Communards were killed</mark>' in page
    assert "28 March 1871 at the Hôtel de Ville.\n\n<mark" in page  # context before
    assert 'href="/documents/commune/revisions/1/">revision 1</a>' in page
    assert "<p>Better.</p>" in page and 'href="https://example.org/a" rel="nofollow noopener"' in page
    assert "Submitted on" in page and "Approved on" in page and "by a moderator" in page
    # The public never learns what moderators said or who they are.
    assert SECRET not in page and "mona" not in page and "Changes requested" not in page
    assert "Edit" not in page and "Flag this critique" not in page


def test_author_sees_every_event_with_reasons_and_their_actions(client, revision, author, moderator):
    critique = submit_critique(author, revision, body=SECRET)
    decide(critique, moderator, "reject", "Not about the passage.")
    client.force_login(author)
    page = page_of(client.get(f"/critiques/{critique.pk}/"))
    assert SECRET in page
    assert "Status:</strong> Rejected: Not about the passage." in page
    assert "Rejected on" in page and 'by a moderator: <q class="reason">Not about the passage.</q>' in page
    assert "mona" not in page
    # A rejected critique that was never published is closed to edits, but can still be withdrawn.
    assert "/edit/" not in page and f"/critiques/{critique.pk}/withdraw/" in page


def test_moderators_see_who_decided(client, revision, author, moderator):
    critique = submit_critique(author, revision, body=SECRET)
    decide(critique, moderator, "request_changes", "Add a source.")
    client.force_login(make_moderator("otto"))
    page = page_of(client.get(f"/critiques/{critique.pk}/"))
    assert SECRET in page and "Changes requested on" in page and 'by mona: <q class="reason">Add a source.</q>' in page


def test_unpublished_critiques_do_not_exist_for_others(client, revision, author, other):
    critique = submit_critique(author, revision, body=SECRET)
    for user in (None, other):
        if user:
            client.force_login(user)
        for url in (
            f"/critiques/{critique.pk}/",
            f"/critiques/{critique.pk}/edit/",
            f"/critiques/{critique.pk}/withdraw/",
        ):
            response = client.get(url)
            if user is None and url != f"/critiques/{critique.pk}/":
                assert response.status_code == 302  # log in first
            else:
                assert response.status_code == 404, url
            assert SECRET not in page_of(response)
    assert client.get("/critiques/999999/").status_code == 404


# Editing and withdrawing


def test_author_edits_a_pending_critique(client, revision, author):
    critique = submit_critique(author, revision, body="First wording.")
    client.force_login(author)
    form_page = page_of(client.get(f"/critiques/{critique.pk}/edit/"))
    assert "First wording." in form_page and 'name="csrfmiddlewaretoken"' in form_page
    response = client.post(f"/critiques/{critique.pk}/edit/", critique_data(body="Second wording."), follow=True)
    assertRedirects(response, f"/critiques/{critique.pk}/")
    assert "Your critique is awaiting review" in page_of(response)
    critique.refresh_from_db()
    assert critique.version.number == 2 and critique.version.body == "Second wording."


def test_editing_an_approved_critique_keeps_readers_on_the_approved_wording(client, revision, author, moderator):
    critique = submit_critique(author, revision, body="Approved wording.")
    approve(critique, moderator)
    client.force_login(author)
    response = client.post(f"/critiques/{critique.pk}/edit/", critique_data(body=f"Proposed {SECRET}"), follow=True)
    assert "Your change awaits review; readers keep seeing the approved wording." in page_of(response)
    assert SECRET in page_of(response)  # the author sees their latest wording
    reader = Client()
    page = page_of(reader.get(f"/critiques/{critique.pk}/"))
    assert "Approved wording." in page and SECRET not in page
    assert SECRET not in page_of(reader.get("/documents/commune/"))


def test_edit_errors_are_shown_and_nothing_changes(client, revision, author):
    critique = submit_critique(author, revision)
    client.force_login(author)
    response = client.post(
        f"/critiques/{critique.pk}/edit/", critique_data(category="factual_error", evidence_1_url="")
    )
    assert response.status_code == 400
    assert "Source 1, web address: give a web address" in page_of(response)
    critique.refresh_from_db()
    assert critique.version.number == 1


def test_only_the_author_may_edit_or_withdraw(client, revision, author, other, moderator):
    critique = submit_critique(author, revision)
    approve(critique, moderator)
    for user in (other, moderator):
        client.force_login(user)
        assert client.get(f"/critiques/{critique.pk}/edit/").status_code == 403
        assert client.post(f"/critiques/{critique.pk}/edit/", critique_data(body="Hijack")).status_code == 403
        assert client.post(f"/critiques/{critique.pk}/withdraw/").status_code == 403
    critique.refresh_from_db()
    assert critique.status == Status.APPROVED and critique.version.number == 1


def test_withdrawing_asks_first_then_hides_the_critique(client, revision, author, moderator):
    critique = submit_critique(author, revision)
    approve(critique, moderator)
    client.force_login(author)
    confirm = client.get(f"/critiques/{critique.pk}/withdraw/")
    assert confirm.status_code == 200 and "Withdraw your critique?" in page_of(confirm)
    critique.refresh_from_db()
    assert critique.status == Status.APPROVED  # a GET changes nothing
    response = client.post(f"/critiques/{critique.pk}/withdraw/", follow=True)
    assertRedirects(response, f"/critiques/{critique.pk}/")
    assert "withdrawn" in page_of(response)
    critique.refresh_from_db()
    assert critique.status == Status.WITHDRAWN
    assert Client().get(f"/critiques/{critique.pk}/").status_code == 410  # readers saw it: gone, not missing
    # Twice is a conflict, with the reason.
    again = client.post(f"/critiques/{critique.pk}/withdraw/")
    assert again.status_code == 409 and "can&#x27;t be withdrawn" in page_of(again)
    assert client.get(f"/critiques/{critique.pk}/edit/").status_code == 409


def test_withdraw_needs_csrf(revision, author):
    critique = submit_critique(author, revision)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(author)
    assert strict.post(f"/critiques/{critique.pk}/withdraw/").status_code == 403
    critique.refresh_from_db()
    assert critique.status == Status.PENDING


# Flags


def test_a_scholar_flags_a_published_critique_once(client, revision, author, other, moderator):
    critique = submit_critique(author, revision)
    approve(critique, moderator)
    client.force_login(other)
    page = page_of(client.get(f"/critiques/{critique.pk}/"))
    assert "Flag this critique" in page
    response = client.post(f"/critiques/{critique.pk}/flag/", {"reason": "Misreads Tombs."}, follow=True)
    assertRedirects(response, f"/critiques/{critique.pk}/")
    assert Flag.objects.get().reason == "Misreads Tombs."
    assert "You have already flagged this critique" in page_of(response)
    response = client.post(f"/critiques/{critique.pk}/flag/", {"reason": "Again."}, follow=True)
    assert "You have already flagged this critique" in page_of(response)
    assert Flag.objects.count() == 1


def test_flag_errors(client, revision, author, other, moderator):
    published = submit_critique(author, revision)
    approve(published, moderator)
    pending = submit_critique(author, revision, passage="Karl Marx")
    client.force_login(other)
    response = client.post(f"/critiques/{published.pk}/flag/", {"reason": "  "})
    assert response.status_code == 400 and "Say what is wrong with this critique." in page_of(response)
    assert client.get(f"/critiques/{published.pk}/flag/").status_code == 405
    assert client.post(f"/critiques/{pending.pk}/flag/", {"reason": "x"}).status_code == 404
    client.force_login(author)
    assert client.post(f"/critiques/{published.pk}/flag/", {"reason": "Mine"}).status_code == 403
    client.logout()
    response = client.post(f"/critiques/{published.pk}/flag/", {"reason": "x"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert Flag.objects.count() == 0


@override_settings(FLAG_RATE="1/h")
def test_flags_are_rate_limited(client, revision, author, other, moderator):
    first = submit_critique(author, revision)
    second = submit_critique(author, revision, passage="Karl Marx")
    approve(first, moderator)
    approve(second, moderator)
    client.force_login(other)
    assert client.post(f"/critiques/{first.pk}/flag/", {"reason": "One"}).status_code == 302
    response = client.post(f"/critiques/{second.pk}/flag/", {"reason": "Two"})
    assert response.status_code == 429 and "Too many flags" in page_of(response)
    assert Flag.objects.count() == 1


# My critiques


def test_my_critiques_lists_everything_i_filed_with_status_and_reason(client, revision, author, other, moderator):
    pending = submit_critique(author, revision, passage="Karl Marx")
    rejected = submit_critique(author, revision, passage="Bloody Week")
    decide(rejected, moderator, "reject", "Off topic.")
    sent_back = submit_critique(author, revision, passage="Vendôme Column", category="factual_error")
    decide(sent_back, moderator, "request_changes", "Which source?")
    approved = submit_critique(author, revision, passage="Hôtel de Ville")
    approve(approved, moderator)
    submit_critique(other, revision, body=SECRET, passage="The Commune")
    client.force_login(author)
    page = page_of(client.get("/me/critiques/"))
    order = [page.index(f'href="/critiques/{c.pk}/"') for c in (approved, sent_back, rejected, pending)]
    assert order == sorted(order)  # newest first
    assert "Rejected: Off topic." in page and "Changes requested: Which source?" in page
    assert "Awaiting review" in page and "Approved" in page
    assert SECRET not in page and "The Commune" not in page
    assert f"/critiques/{sent_back.pk}/edit/" in page and f"/critiques/{rejected.pk}/edit/" not in page


def test_my_critiques_needs_a_login(client):
    response = client.get("/me/critiques/")
    assertRedirects(response, "/accounts/login/?next=/me/critiques/", fetch_redirect_response=False)


def test_my_critiques_paginates_in_a_fixed_number_of_queries(client, revision, author, moderator):
    client.force_login(author)

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    submit_critique(author, revision)
    one = count("/me/critiques/")
    # The session, the user, their groups and unread notifications (for the header), the count and the page.
    assert one == 6
    for number in range(29):
        critique = submit_critique(author, revision, passage="Karl Marx")
        if number % 3 == 0:
            decide(critique, moderator, "reject")
    assert count("/me/critiques/") == one
    response = client.get("/me/critiques/?page=2")
    assert len(response.context["rows"]) == 5
    assert count("/me/critiques/?page=2") == one


# Nothing unpublished leaks


def test_an_unpublished_critique_appears_on_no_page_others_can_open(client, document, author, other, moderator):
    from archive.services import revision_create

    revision = document.current_revision
    critique = submit_critique(
        author,
        revision,
        passage="Karl Marx",
        body=SECRET,
        evidence=[
            {"url": f"https://example.org/{SECRET}", "title": SECRET, "note": SECRET},
        ],
    )
    published = submit_critique(author, revision)
    approve(published, moderator)
    services.critique_edit(published, user=author, category="unsourced_claim", body=f"Change {SECRET}")
    revision_create(document, text=SAMPLE_TEXT + "\nMore.\n", summary="Add", base_revision=1)
    urls = [
        "/",
        "/documents/",
        "/documents/?q=commune",
        "/documents/commune/",
        "/documents/commune/revisions/1/",
        "/documents/commune/revisions/2/",
        "/documents/commune/history/",
        "/documents/commune/diff/?from=1&to=2",
        f"/critiques/{critique.pk}/",
        f"/critiques/{published.pk}/",
    ]
    for user in (None, other):
        if user:
            client.force_login(user)
            urls.append("/me/critiques/")
        for url in urls:
            response = client.get(url)
            assert SECRET not in page_of(response), (user, url)
        assert client.get(f"/critiques/{critique.pk}/").status_code == 404
    # While its author does see it.
    client.force_login(author)
    assert SECRET in page_of(client.get("/documents/commune/revisions/1/"))
