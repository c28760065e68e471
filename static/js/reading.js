/**
 * The reading page's critical apparatus: turning a selection into a critique
 * form, and showing a highlight's note in the margin.
 *
 * The server renders every code point of the revision text inside exactly
 * one element carrying its offset in data-o (runs of text, <br> for a newline
 * in a paragraph, hidden gaps holding the blank lines between paragraphs in
 * data-gap). Offsets count Unicode code points, like Python's str, while the
 * DOM counts UTF-16 units: everything here converts. The quote is rebuilt
 * from those elements, never from Selection.toString(), which would drop the
 * blank lines and pick up the markers' signs.
 *
 * Without this script the page still works: highlights' markers link to their
 * notes, and the form takes a typed or pasted quote.
 */
const CONTEXT_LENGTH = 32;  // prefix and suffix, as annotations.selectors.CONTEXT_LENGTH

const textRoot = document.getElementById("document-text");
const form = document.getElementById("critique-form");
const critiqueButton = document.getElementById("critique-this");

function codePointCount(string) {
  let count = 0;
  for (let i = 0; i < string.length; i++) {
    const unit = string.charCodeAt(i);
    // A low surrogate after a high one continues the same code point.
    if (!(unit >= 0xdc00 && unit <= 0xdfff && i > 0 && isHighSurrogate(string.charCodeAt(i - 1)))) count++;
  }
  return count;
}

function isHighSurrogate(unit) {
  return unit >= 0xd800 && unit <= 0xdbff;
}

/** The text's [data-o] elements in order, with the characters each holds. */
function indexText(root) {
  const pieces = [];
  for (const element of root.querySelectorAll("[data-o]")) {
    let characters;
    if (element.tagName === "BR") characters = "\n";
    else if (element.hasAttribute("data-gap")) characters = element.getAttribute("data-gap");
    else characters = element.textContent;
    pieces.push({ element, offset: Number(element.dataset.o), length: codePointCount(characters), characters });
  }
  return pieces;
}

/** A function giving the passage currently selected in the text, or null. */
function passageReader(root, pieces) {
  const pieceOf = new Map(pieces.map((piece) => [piece.element, piece]));
  // The whole text as an array of code points, for quotes and their context.
  const codePoints = Array.from(pieces.map((piece) => piece.characters).join(""));

  /** Index of the first piece that starts at or after the boundary point. */
  function firstPieceFrom(node, offset) {
    const point = document.createRange();
    point.setStart(node, offset);
    let low = 0;
    let high = pieces.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (point.comparePoint(pieces[middle].element, 0) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /**
   * The code-point offset of a DOM boundary point. A point inside a run
   * counts the code points before it; any other point (between paragraphs,
   * inside a marker, outside the text) goes to the start of the next piece
   * for a selection's start, or the end of the previous one for its end.
   */
  function textOffset(node, offset, isEnd) {
    const element = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
    const owner = element && element.closest("[data-o]");
    const piece = owner && pieceOf.get(owner);
    if (piece) {
      if (node.nodeType === Node.TEXT_NODE) return piece.offset + codePointCount(node.data.slice(0, offset));
      return offset === 0 ? piece.offset : piece.offset + piece.length;
    }
    const next = firstPieceFrom(node, offset);
    if (isEnd) {
      const previous = pieces[next - 1];
      return previous ? previous.offset + previous.length : 0;
    }
    return next < pieces.length ? pieces[next].offset : codePoints.length;
  }

  /** The selected passage as {start, end, exact, prefix, suffix}, trimmed of surrounding blanks; or null. */
  function selectedPassage() {
    const selection = document.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    if (!range.intersectsNode(root)) return null;
    let start = textOffset(range.startContainer, range.startOffset, false);
    let end = textOffset(range.endContainer, range.endOffset, true);
    // A double or triple click takes in spaces and line ends a quote doesn't need.
    while (start < end && /\s/u.test(codePoints[start])) start++;
    while (end > start && /\s/u.test(codePoints[end - 1])) end--;
    if (start >= end) return null;
    return {
      start,
      end,
      exact: codePoints.slice(start, end).join(""),
      prefix: codePoints.slice(Math.max(0, start - CONTEXT_LENGTH), start).join(""),
      suffix: codePoints.slice(end, end + CONTEXT_LENGTH).join(""),
      range,
    };
  }

  return selectedPassage;
}

function setUpSelection(selectedPassage) {
  let current = null;  // the passage the button would critique

  function placeButton(range) {
    critiqueButton.hidden = false;
    const rects = range.getClientRects();
    const last = rects.length ? rects[rects.length - 1] : range.getBoundingClientRect();
    const parent = critiqueButton.offsetParent || document.body;
    const parentBox = parent.getBoundingClientRect();
    const width = critiqueButton.offsetWidth;
    const maxLeft = document.documentElement.clientWidth - width - 8 - parentBox.left;
    critiqueButton.style.top = `${last.bottom - parentBox.top + 6}px`;
    critiqueButton.style.left = `${Math.max(0, Math.min(last.left - parentBox.left, maxLeft))}px`;
  }

  let dragging = false;
  let pending = 0;

  function update() {
    if (dragging) return;
    current = selectedPassage();
    if (current) placeButton(current.range);
    else critiqueButton.hidden = true;
  }

  function updateSoon() {
    // Mouse drags and shift+arrows fire many changes; act once they settle.
    clearTimeout(pending);
    pending = setTimeout(update, 120);
  }

  document.addEventListener("selectionchange", updateSoon);
  // No button while the mouse is still choosing the passage. (Touch
  // selection is left to the browser and its selectionchange events.)
  textRoot.addEventListener("pointerdown", (event) => {
    if (event.pointerType !== "mouse") return;
    dragging = true;
    critiqueButton.hidden = true;
  });
  const dragEnded = () => {
    if (!dragging) return;
    dragging = false;
    updateSoon();
  };
  document.addEventListener("pointerup", dragEnded);
  document.addEventListener("pointercancel", dragEnded);
  // Keep the selection when the button is pressed with a mouse.
  critiqueButton.addEventListener("mousedown", (event) => event.preventDefault());
  critiqueButton.addEventListener("click", () => {
    // The live selection wins over the last one seen: the button may be
    // pressed before the latest change settled.
    const passage = selectedPassage() || current;
    if (!passage) return;
    fillCritiqueForm(passage);
    critiqueButton.hidden = true;
  });
}

function fillCritiqueForm(passage) {
  for (const name of ["start", "end", "prefix", "suffix"]) form.elements[name].value = passage[name];
  form.elements.exact.value = passage.exact;
  const box = document.getElementById("critique-form-box");
  if (box) box.open = true;
  form.elements.category.focus();
}

function setUpQuoteTyping() {
  // A typed or edited quote no longer matches the selected positions: let the server find it.
  form.elements.exact.addEventListener("input", () => {
    for (const name of ["start", "end", "prefix", "suffix"]) form.elements[name].value = "";
  });
}

function setUpCategoryHint() {
  const select = document.getElementById("id_category");
  const hint = document.getElementById("category-hint");
  const guide = document.getElementById("category-guide");
  if (!select || !hint || !guide) return;
  select.addEventListener("change", () => {
    let definition = "";
    for (const entry of guide.querySelectorAll("[data-category]")) {
      const chosen = entry.dataset.category === select.value;
      entry.classList.toggle("selected", chosen);
      if (chosen) definition = entry.querySelector("dd").textContent;
    }
    hint.textContent = definition;
  });
}

function setUpHighlights(root) {
  const list = document.getElementById("critique-list");
  let pointerDown = false;

  function showNotes(mark) {
    const ids = (mark.dataset.critiques || "").split(" ").filter(Boolean);
    const notes = ids.map((id) => document.getElementById(`critique-${id}`)).filter(Boolean);
    if (!notes.length) return null;
    for (const active of document.querySelectorAll(".critique-note.active, mark.hl.active")) {
      active.classList.remove("active");
    }
    for (const note of notes) note.classList.add("active");
    for (const id of ids) {
      for (const other of root.querySelectorAll(`mark.hl[data-critiques~="${id}"]`)) other.classList.add("active");
    }
    const first = notes[0];
    // In a wide layout the list scrolls by itself beside the text; on a
    // phone it sits below the text and the page scrolls to it.
    if (list && list.scrollHeight > list.clientHeight) list.scrollTop = first.offsetTop - 8;
    const box = first.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) first.scrollIntoView({ block: "nearest" });
    return first;
  }

  root.addEventListener("pointerdown", () => { pointerDown = true; });
  const pointerReleased = () => { setTimeout(() => { pointerDown = false; }, 0); };
  document.addEventListener("pointerup", pointerReleased);
  document.addEventListener("pointercancel", pointerReleased);
  root.addEventListener("click", (event) => {
    const mark = event.target.closest("mark.hl");
    const selection = document.getSelection();
    // A drag that selects text is not a click on the highlight.
    if (mark && (!selection || selection.isCollapsed)) showNotes(mark);
  });
  root.addEventListener("focusin", (event) => {
    const mark = event.target.closest("mark.hl");
    // Focus from a mouse press is handled by the click, so selecting text doesn't jump the margin.
    if (mark && !pointerDown) showNotes(mark);
  });
  root.addEventListener("keydown", (event) => {
    const mark = event.target.closest("mark.hl");
    if (mark && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      const note = showNotes(mark);
      if (note) note.focus();
    }
  });
}

/**
 * A detached critique's re-attach form (shown to its author and moderators):
 * the passage selected in the text fills its hidden positions and quote when
 * the button is pressed. A typed quote is sent without positions, for the
 * server to find.
 */
function setUpReattach(selectedPassage) {
  for (const reattach of document.querySelectorAll("form[data-reattach]")) {
    const button = reattach.querySelector("button[type=submit]");
    const message = reattach.querySelector(".reattach-message");
    // Pressing the button must not clear the selection it is about.
    button.addEventListener("mousedown", (event) => event.preventDefault());
    reattach.elements.exact.addEventListener("input", () => {
      reattach.elements.start.value = "";
      reattach.elements.end.value = "";
    });
    reattach.addEventListener("submit", (event) => {
      const passage = selectedPassage();
      if (passage) {
        reattach.elements.start.value = passage.start;
        reattach.elements.end.value = passage.end;
        reattach.elements.exact.value = passage.exact;
      } else if (!reattach.elements.exact.value.trim()) {
        event.preventDefault();
        message.textContent = "Select the passage in the text first, then press the button.";
        message.hidden = false;
      }
    });
  }
}

if (textRoot) {
  const pieces = indexText(textRoot);
  const selectedPassage = passageReader(textRoot, pieces);
  setUpHighlights(textRoot);
  if (form && critiqueButton) setUpSelection(selectedPassage);
  setUpReattach(selectedPassage);
}
if (form && form.elements.exact) setUpQuoteTyping();
setUpCategoryHint();
