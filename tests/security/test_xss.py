"""
Cross-site scripting: every payload of ``payloads.PAYLOADS`` goes in where
people can write text, through the real forms, services and importers, and
every page that shows it is opened in Chromium.

Where it goes: a critique's explanation (Markdown), its evidence title and
note, its quote (the document's text), a username, a moderator's reason, a
flag, a document's title, author, site, rights and notes (an import sidecar
and the admin form), the text of an imported ``.txt`` and ``.html`` file, an
edit summary, and search queries. Non-http(s) evidence URLs and such
usernames are refused with a clear message; ``URL_PAYLOADS`` are valid URLs
that try to break out of the ``href`` attribute.

The browser pages run with the Content-Security-Policy bypassed, so these
tests prove the escaping on its own (``test_csp`` proves the policy). On each
page: no dialog opened, ``window.__xss`` was never set, the DOM holds no
event-handler attribute, no script but ours, no
frame, object, base or refresh, no ``javascript:``/``data:`` link; and the
texts shown as text are there, character for character. The HTML as served
has no inline script, handler or ``style`` attribute either.
"""

import json
import re
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from annotations import services
from annotations.models import Critique
from archive.models import Document
from archive.services import revision_create
from tests.factories import make_document, make_user
from tests.security.payloads import PAYLOADS, URL_PAYLOADS
from tests.security.world import HANDLER, inline_code

# Injected elements and attributes that could run code, as the page's DOM holds them.
DOM_PROBLEMS = r"""() => {
  const problems = [];
  const urlAttributes = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'poster', 'srcdoc'];
  for (const element of document.querySelectorAll('*')) {
    const tag = element.tagName.toLowerCase();
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      const value = attribute.value.replace(/[\s\u0000-\u001f]/g, '').toLowerCase();
      if (name.startsWith('on')) problems.push(`<${tag} ${name}>`);
      if (urlAttributes.includes(name) && /^(javascript|vbscript|data):/.test(value)) {
        problems.push(`<${tag} ${name}="${attribute.value}">`);
      }
    }
    if (['iframe', 'frame', 'object', 'embed', 'base', 'style', 'noscript', 'applet'].includes(tag)) {
      problems.push(`<${tag}>`);
    }
    if (tag === 'meta' && element.hasAttribute('http-equiv')) problems.push('<meta http-equiv>');
    const source = element.getAttribute('src') || '';
    const ours = source.startsWith('/static/') || source === '/admin/jsi18n/';
    // A data block (JSON-LD) is never run: what it holds is checked as text like the rest of the page.
    const data = tag === 'script' && !source && (element.getAttribute('type') || '').toLowerCase() === 'application/ld+json';
    if ((tag === 'script' || tag === 'img') && !ours && !data) {
      problems.push(element.outerHTML.slice(0, 100));
    }
  }
  return problems;
}"""
# Everything a person can read on the page, form values included.
PAGE_TEXT = """() => [document.title, document.body.textContent,
  ...Array.from(document.querySelectorAll('input, textarea'), (field) => field.value)].join(' ')"""


def normal(text):
    return re.sub(r"\s+", " ", text).strip()


def check_page(page, url, shown=(), problems=None):
    """Open ``url``; return what is wrong: code that ran, dangerous DOM, texts that should show and don't."""
    found = []
    page.problems.clear()
    response = page.goto(url)
    if response.status != 200:
        found.append(f"status {response.status}")
    found += page.problems
    found += [f"served HTML: {item}" for item in inline_code(response.text())]
    if page.evaluate("typeof window.__xss") != "undefined":
        found.append("window.__xss was set")
    found += page.evaluate(DOM_PROBLEMS)
    content = page.content().lower()
    found += [f"raw {raw}" for raw in ("<script>alert", "<script>window.__xss") if raw in content]
    text = normal(page.evaluate(PAGE_TEXT))
    found += [f"not shown as text: {item!r}" for item in shown if normal(item) not in text]
    if problems is not None:
        problems += [f"{url}: {item}" for item in found]
    return found


def write_import_files(folder):
    """The import files: one .txt whose text holds every payload, one .html, and a document per payload."""
    text = "".join(f"Paragraph {number} holds: {payload}\n\n" for number, payload in enumerate(PAYLOADS))
    (folder / "xss-text.txt").write_text(text)
    (folder / "xss-text.json").write_text(
        json.dumps(
            {
                "title": "Payloads in the text",
                "kind": "essay",
                "notes": "\n".join(PAYLOADS),
                "original_url": URL_PAYLOADS[0],
                "rights": PAYLOADS[0],
                "summary": PAYLOADS[1],
            }
        )
    )
    (folder / "xss-html.html").write_text(
        "<html><head><title>An HTML capture</title></head><body>"
        + "".join(f"<p>Block {number}: {payload}</p>" for number, payload in enumerate(PAYLOADS))
        + "</body></html>"
    )
    (folder / "xss-html.json").write_text(json.dumps({"kind": "forum_thread"}))
    for number, payload in enumerate(PAYLOADS):
        (folder / f"xss-doc-{number:02}.txt").write_text(f"Document number {number}.\n")
        (folder / f"xss-doc-{number:02}.json").write_text(
            json.dumps(
                {
                    "title": payload,
                    "kind": "blog_post",
                    "author": payload,
                    "site": payload,
                    "notes": payload,
                }
            )
        )


def critique_the_payloads(document, moderator, reader):
    """One critique per payload, by a user named after it, quoting, saying and citing it; decided, flagged."""
    revision = document.current_revision
    critiques = []
    for number, payload in enumerate(PAYLOADS):
        start = revision.text.index(f"Paragraph {number} holds: ") + len(f"Paragraph {number} holds: ")
        end = revision.text.index("\n", start)
        critique = services.critique_submit(
            author=make_user(payload, email=f"payload{number}@example.org"),
            revision=revision,
            category="unsourced_claim",
            body=payload,
            evidence=[{"url": URL_PAYLOADS[number % len(URL_PAYLOADS)], "title": payload, "note": payload}],
            exact=revision.text[start:end],
            start=start,
            end=end,
        )
        if number % 2:
            services.critique_decide(critique, moderator=moderator, action="reject", reason=payload)
        else:
            services.critique_decide(critique, moderator=moderator, action="approve")
            services.critique_flag(critique, user=reader, reason=payload)
        critiques.append(critique)
    return critiques


@pytest.fixture
def payload_world(transactional_db, tmp_path):
    moderator = make_user("xss-moderator", groups=["Moderators"])
    reader = make_user("xss-reader")
    admin = make_user("xss-admin", is_staff=True, is_superuser=True)
    write_import_files(tmp_path)
    call_command("import_documents", str(tmp_path), verbosity=0)
    document = Document.objects.get(slug="xss-text")
    critiques = critique_the_payloads(document, moderator, reader)
    revised = document.current_revision.text.replace(" holds: ", " now holds: ")
    revision_create(document, text=revised, summary=" | ".join(PAYLOADS[:8]), base_revision=1, user=admin)
    # The admin's own form, as an archivist would fill it in.
    client = Client()
    client.force_login(admin)
    response = client.post(
        "/admin/archive/document/add/",
        {
            "title": PAYLOADS[6],
            "slug": "xss-admin",
            "kind": "essay",
            "author": PAYLOADS[3],
            "site": PAYLOADS[11],
            "rights": PAYLOADS[13],
            "notes": "\n".join(PAYLOADS),
            "new_text": "Written in the admin.\n",
            "edit_summary": PAYLOADS[36],
            "base_revision": "0",
            "revisions-TOTAL_FORMS": "0",
            "revisions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    return {"moderator": moderator, "admin": admin, "critiques": critiques}


@pytest.mark.e2e
def test_no_payload_runs_anywhere_and_each_shows_as_text(payload_world, open_page):
    world, problems = payload_world, []
    approved = [critique for number, critique in enumerate(world["critiques"]) if number % 2 == 0]
    approved_payloads = PAYLOADS[::2]
    titles = list(Document.objects.order_by("title").values_list("title", flat=True)[:50])  # as home has them

    reader = open_page(bypass_csp=True)
    check_page(reader, "/", titles, problems)
    check_page(reader, "/documents/xss-text/", approved_payloads, problems)  # margin: quotes, sources, names
    check_page(reader, "/documents/xss-text/revisions/1/", PAYLOADS, problems)  # the text, each paragraph
    check_page(reader, "/documents/xss-text/history/", [" | ".join(PAYLOADS[:8]), PAYLOADS[1]], problems)
    check_page(reader, "/documents/xss-text/diff/?from=1&to=2", PAYLOADS, problems)
    check_page(reader, "/documents/xss-html/", ["Block 0:", "Block 6:"], problems)  # the importer drops tags
    check_page(reader, "/documents/xss-doc-05/", [PAYLOADS[5]], problems)
    check_page(reader, "/documents/xss-admin/", PAYLOADS, problems)  # notes from the admin form
    check_page(reader, "/documents/?q=alert", [], problems)  # snippets of matching texts
    check_page(reader, "/search/?q=script", [], problems)  # documents' and critiques' snippets
    for critique in approved[:4]:
        check_page(reader, f"/critiques/{critique.pk}/", [critique.exact], problems)

    author = open_page(world["critiques"][11].author, bypass_csp=True)
    check_page(author, "/me/critiques/", [PAYLOADS[11]], problems)
    check_page(author, f"/critiques/{world['critiques'][11].pk}/", [PAYLOADS[11]], problems)  # the reason too

    moderator = open_page(world["moderator"], bypass_csp=True)
    queue, url = "", "/moderation/?status=all"
    for _ in range(5):  # a page at a time, following its "next" link
        check_page(moderator, url, [], problems)
        queue += normal(moderator.evaluate(PAGE_TEXT))
        url = moderator.evaluate("() => document.querySelector('.pagination a[rel=next]')?.href")
        if not url:
            break
    problems += [f"queue: not shown {payload!r}" for payload in PAYLOADS if normal(payload) not in queue]
    check_page(moderator, "/documents/xss-text/revisions/1/", PAYLOADS, problems)

    admin = open_page(world["admin"], bypass_csp=True)
    check_page(admin, "/admin/archive/document/", [PAYLOADS[6]], problems)
    admin_document = Document.objects.get(slug="xss-admin").pk
    check_page(admin, f"/admin/archive/document/{admin_document}/change/", PAYLOADS, problems)
    check_page(admin, "/admin/annotations/critique/", [], problems)
    check_page(admin, f"/admin/annotations/critique/{approved[0].pk}/change/", [PAYLOADS[0]], problems)
    check_page(admin, "/admin/auth/user/?q=script", [PAYLOADS[1]], problems)  # usernames

    for payload in PAYLOADS:
        check_page(reader, f"/search/?q={quote(payload)}", [payload[:200].strip()], problems)
        check_page(reader, f"/documents/?q={quote(payload)}", [payload[:200].strip()], problems)
    assert not problems, "\n".join(problems)


# --- Refused at the door -----------------------------------------------------

REFUSED_URL = "Source 1, web address: give a web address starting with http:// or https://."


@pytest.fixture
def scholar_client(db):
    make_document(slug="commune")
    client = Client()
    client.handler = HANDLER
    client.force_login(make_user("scholar"))
    return client


@pytest.mark.parametrize("payload", PAYLOADS)
def test_evidence_urls_that_are_not_web_addresses_are_refused(payload, scholar_client):
    form = {
        "exact": "Karl Marx",
        "category": "factual_error",
        "body": "See the source.",
        "evidence_1_url": payload,
        "evidence_1_title": "A source",
    }
    response = scholar_client.post("/documents/commune/revisions/1/critiques/", form)
    assert response.status_code == 400
    assert REFUSED_URL in response.content.decode()
    api = scholar_client.post(
        "/api/annotations/",
        json.dumps(
            {
                "document": "commune",
                "revision": 1,
                "category": "factual_error",
                "body": "See the source.",
                "evidence": [{"url": payload, "title": "A source"}],
                "selector": {"exact": "Karl Marx"},
            }
        ),
        content_type="application/json",
    )
    assert api.status_code == 400
    assert api.json()["fields"]["evidence"] == [REFUSED_URL]
    assert not Critique.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS)
def test_usernames_that_are_markup_are_refused_at_sign_up(payload):
    client = Client()
    client.handler = HANDLER
    response = client.post(
        "/accounts/signup/",
        {
            "username": payload,
            "email": "new@example.org",
            "password1": "a-long-pass-phrase-1871",
            "password2": "a-long-pass-phrase-1871",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "username" in errors, errors
    assert not get_user_model().objects.filter(email="new@example.org").exists()
