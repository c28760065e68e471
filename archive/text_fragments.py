"""
A link to a passage at its source: the source's address with a text
directive (URL Fragment Text Directives, WICG),
``original_url#:~:text=[prefix-,]textStart[,textEnd][,-suffix]``, which a
browser that knows them scrolls to and highlights. Pure: no Django.

How the directive is made, and why:

- Each part is percent-encoded as UTF-8, ``-``, ``,`` and ``&`` included
  (the directive's own delimiters), and whitespace runs become one space, as
  the page renders them.
- A quote of up to ``WHOLE_WORDS`` words on one line is given whole
  (``textStart``). A longer one, or one over a line break, is given by its
  first and last ``EDGE_WORDS`` words (``textStart,textEnd``): a browser
  matches each part within one block of the page, and the address stays short.
- Prefix and suffix are the ``CONTEXT_WORDS`` words before and after the
  passage on its own line. A word the passage starts or ends inside is part
  of its context, so a quote cut mid-word still matches (a prefix must start
  at a word, a suffix end at one, and a quote may begin right after its
  prefix and end right before its suffix); a word cut by the edge of the
  characters looked at is not used.

A browser that can't find the text just opens the page.
"""

from urllib.parse import quote, urlsplit, urlunsplit

WHOLE_WORDS = 8
EDGE_WORDS = 4
CONTEXT_WORDS = 3
CONTEXT_CHARS = 300  # looked at on each side of the passage


def _encoded(term):
    # quote() leaves "-" alone (an unreserved character), but it delimits prefix and suffix here.
    return quote(term, safe="").replace("-", "%2D")


def _quote_terms(passage):
    """``[textStart]`` or ``[textStart, textEnd]`` for ``passage``; empty when it holds no words."""
    lines = [words for words in (line.split() for line in passage.split("\n")) if words]
    if not lines:
        return []
    if len(lines) == 1 and len(lines[0]) <= WHOLE_WORDS:
        return [" ".join(lines[0])]
    return [" ".join(lines[0][:EDGE_WORDS]), " ".join(lines[-1][-EDGE_WORDS:])]


def _prefix(text, start):
    window = text[max(0, start - CONTEXT_CHARS) : start]
    line = window.rsplit("\n", 1)[-1]
    words = line.split()
    if start > CONTEXT_CHARS and len(line) == len(window) and line[:1].strip():
        words = words[1:]  # the first word may be cut by the window's edge
    return " ".join(words[-CONTEXT_WORDS:])


def _suffix(text, end):
    window = text[end : end + CONTEXT_CHARS]
    line = window.split("\n", 1)[0]
    words = line.split()
    if end + CONTEXT_CHARS < len(text) and len(line) == len(window) and line[-1:].strip():
        words = words[:-1]  # the last word may be cut by the window's edge
    return " ".join(words[:CONTEXT_WORDS])


def text_directive(text, start, end):
    """The text directive (``text=…``) for ``text[start:end]``, or "" when the passage holds no words."""
    terms = _quote_terms(text[start:end])
    if not terms:
        return ""
    parts = [_encoded(term) for term in terms]
    prefix, suffix = _prefix(text, start), _suffix(text, end)
    if prefix:
        parts.insert(0, f"{_encoded(prefix)}-")
    if suffix:
        parts.append(f"-{_encoded(suffix)}")
    return "text=" + ",".join(parts)


def passage_at_source_url(original_url, text, start, end):
    """
    ``original_url`` with a text directive for the passage ``text[start:end]``
    (code-point offsets), or None when there is no address or no words. A
    fragment the address already has is kept; a directive it has is replaced.
    """
    if not original_url:
        return None
    directive = text_directive(text, start, end)
    if not directive:
        return None
    parts = urlsplit(original_url)
    fragment = parts.fragment.split(":~:", 1)[0]
    return urlunsplit(parts._replace(fragment=f"{fragment}:~:{directive}"))
