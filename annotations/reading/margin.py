"""
The reading page's margin: its list of notes as HTML, built here rather than
in a template loop because a page may list thousands (the template engine
spends some 80 µs a note, this under 10). No Django imports: a pure function
of the notes ``annotations.reading.views.MarginNote`` prepares.

The margin is light: each note shows its category, quote, author and the
first words of its explanation (``excerpt``); the whole explanation and its
evidence (``full_note_html``) come from the note's own address
(``data-note``) when the reader opens the note (static/js/margin.js), and
without JavaScript from the critique's own page, its permalink. A page of
thousands of critiques stays small and quick to build.

Every value is escaped as the template engine would; ``body_html`` is the
critique's sanitized HTML (``annotations.rendering``) and goes in as it is.
"""

import html
import re

from annotations.evidence import evidence_html
from annotations.reading.highlighting import escape as _escape

# The excerpt's length in characters of text, and how much of the HTML is read to find them.
EXCERPT_CHARS = 140
EXCERPT_SOURCE_CHARS = 600
_TAG = re.compile(r"<[^>]*>|<[^>]*$")
_SPACES = re.compile(r"\s+")


def escape(value):
    return _escape(str(value))


def excerpt(body_html):
    """
    The first words of an explanation, as text, from the start of its HTML:
    ``(excerpt, cut)``, ``cut`` when there is more to read than the excerpt.
    """
    text = _SPACES.sub(" ", html.unescape(_TAG.sub(" ", body_html))).strip()
    if len(text) <= EXCERPT_CHARS and len(body_html) < EXCERPT_SOURCE_CHARS:
        return text, False
    cut = text[:EXCERPT_CHARS]
    return cut[: cut.rfind(" ")].rstrip(" ,;:.") if " " in cut else cut, True


def full_note_html(version):
    """The whole explanation and its evidence, as the margin shows them once a note is opened."""
    return version.body_html + evidence_html(version.evidence)


def note_html(note):
    """One note of the margin: its category and status, the quote, the excerpt, links and replies."""
    status = f' <span class="note-status">{escape(note.status)}</span>' if note.status else ""
    written = ""
    if note.written_on:
        written = f' · <a href="{escape(note.written_on_url)}">written on revision {note.written_on}</a>'
        if note.has_moved:
            written += "; the passage has changed since"
    at_source = ""
    if note.at_source_url:
        at_source = (
            f' · <a class="at-source" href="{escape(note.at_source_url)}" rel="nofollow noopener noreferrer">'
            f'At the source<span class="visually-hidden">: the passage of critique {note.id}</span></a>'
        )
    replies = ""
    if note.reply_count:
        count = f"{note.reply_count} {'reply' if note.reply_count == 1 else 'replies'}"
        replies = (
            f' · <a class="note-replies" href="{escape(note.url)}#replies-title">{count}'
            f'<span class="visually-hidden"> to critique {note.id}</span></a>'
        )
    more = "…" if note.is_excerpt_cut else ""
    # Laid out as the template around it is.
    return (
        f'        <li class="critique-note {escape(note.css_class)}" id="critique-{note.id}" tabindex="-1" '
        f'data-critique="{note.id}" data-start="{note.start}" data-end="{note.end}" data-note="{note.note_url}">\n'
        f'          <p class="note-head"><span class="sign" aria-hidden="true">{escape(note.sign)}</span> '
        f'<strong class="note-category">{escape(note.category_label)}</strong>{status}</p>\n'
        f'          <blockquote class="note-quote">{escape(note.quote)}</blockquote>\n'
        f'          <div class="note-body"><p class="note-excerpt">{escape(note.excerpt)}{more}</p></div>\n'
        f'          <p class="note-foot">by {escape(note.author_name)} · <a class="to-passage" '
        f'href="#passage-{note.id}" data-critique="{note.id}">In the text<span class="visually-hidden">: '
        f"the passage of critique {note.id}</span></a> · "
        f'<a href="{escape(note.url)}">Permalink<span class="visually-hidden"> of critique {note.id}</span></a>'
        f"{at_source}{replies}{written}</p>\n"
        "        </li>\n"
    )


def notes_html(notes):
    """The margin's notes, in order, as the inside of its ``<ol>``."""
    return "".join(note_html(note) for note in notes)
