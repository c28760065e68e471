"""
Reading the HTML the pages render, as the browser script reads it: the
document text's ``[data-o]`` pieces and critique markers (``text_pieces``),
the text put back together from them (``rebuilt_text``), which critiques
cover each code point (``covering``), and on a whole reading page, the text's
HTML (``text_html``) and what each critique highlights (``marks``).
"""

from html.parser import HTMLParser


class _Pieces(HTMLParser):
    """Collects the [data-o] elements of the text HTML and the markers."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pieces = []  # dicts: offset, text, tag, critiques, classes
        self.markers = []  # (critique id, visible sign, hidden label)
        self._open = None  # the [data-o] run being read
        self._marker = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "marker" in attrs.get("class", ""):
            self._marker = {"id": int(attrs["data-critique"]), "text": []}
        if "data-o" not in attrs:
            return
        assert self._open is None, "[data-o] elements never nest"
        assert self._marker is None, "no [data-o] inside a marker"
        piece = {
            "offset": int(attrs["data-o"]),
            "tag": tag,
            "text": "",
            "critiques": [int(i) for i in attrs.get("data-critiques", "").split()],
            "classes": attrs.get("class", "").split(),
            "attrs": attrs,
        }
        if tag == "br":
            piece["text"] = "\n"
            self.pieces.append(piece)
        elif "data-gap" in attrs:
            piece["text"] = attrs["data-gap"]
            self.pieces.append(piece)
            self._open = piece
        else:
            self.pieces.append(piece)
            self._open = piece

    def handle_endtag(self, tag):
        if self._open is not None and tag == self._open["tag"]:
            self._open = None
        elif tag == "a" and self._marker is not None:
            self.markers.append((self._marker["id"], "".join(self._marker["text"])))
            self._marker = None

    def handle_data(self, data):
        if self._marker is not None:
            self._marker["text"].append(data)
        elif self._open is not None and "data-gap" not in self._open["attrs"]:
            self._open["text"] += data


def text_pieces(html):
    """The [data-o] pieces and markers of a text's HTML, as the browser script reads them."""
    parser = _Pieces()
    parser.feed(html)
    parser.close()
    return parser.pieces, parser.markers


def rebuilt_text(html):
    """The text put back together from the pieces, checking that each starts where the last ended."""
    pieces, _ = text_pieces(html)
    position = 0
    for piece in pieces:
        assert piece["offset"] == position, f"piece at {piece['offset']} but text so far ends at {position}"
        position += len(piece["text"])
    return "".join(piece["text"] for piece in pieces)


def covering(html, text):
    """For each code point of the text, the ids of the critiques whose highlight covers it."""
    pieces, _ = text_pieces(html)
    cover = []
    for piece in pieces:
        cover.extend([set(piece["critiques"])] * len(piece["text"]))
    assert len(cover) == len(text)
    return cover


def text_html(page):
    """The inside of the document text's div."""
    start = page.index('id="document-text"')
    start = page.index(">", start) + 1
    return page[start : page.index("</div>", start)]


def marks(page):
    """``{critique id: text it highlights}`` on a reading page."""
    found = {}
    for piece in text_pieces(text_html(page))[0]:
        for critique in piece["critiques"]:
            found[critique] = found.get(critique, "") + piece["text"]
    return found
