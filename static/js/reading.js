/**
 * The reading page's critique form: turning a selection into a critique,
 * the composer that opens beside it (in the margin on a wide screen, over the
 * bottom of the screen on a narrow one) without moving the page, and sending
 * the form without a reload, its errors shown by their fields. The notes
 * beside the text are margin.js's.
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
 * notes, and the form takes a typed or pasted quote and is posted as usual.
 */
const CONTEXT_LENGTH = 32;  // prefix and suffix, as annotations.selectors.CONTEXT_LENGTH

const textRoot = document.getElementById("document-text");
const form = document.getElementById("critique-form");
const critiqueButton = document.getElementById("critique-this");
const GAP = 8;  // px kept between the composer and the window's edges

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
    if (reselectForm) {
      useForReselect(passage);
      return;
    }
    fillCritiqueForm(passage);
    composer.open(passage.range);
    critiqueButton.hidden = true;
  });
}

function fillCritiqueForm(passage) {
  for (const name of ["start", "end", "prefix", "suffix"]) form.elements[name].value = passage[name];
  form.elements.exact.value = passage.exact;
}

/**
 * The critique form, lifted out of its box in the margin into the composer:
 * on a wide screen at the selection's height (kept inside the window), on a
 * narrow one over the bottom of the screen. Nothing scrolls: the focus goes
 * to the category without moving the page. Closing puts the form back.
 */
const composer = {
  element: document.getElementById("composer"),
  status: document.getElementById("composer-status"),
  box: document.getElementById("critique-form-box"),
  returnTo: null,

  get isOpen() {
    return Boolean(this.element && !this.element.hidden);
  },

  open(range) {
    if (!this.element) {
      if (this.box) this.box.open = true;
      form.elements.category.focus();
      return;
    }
    if (!this.isOpen) this.returnTo = document.activeElement;
    this.status.textContent = "";
    this.status.classList.remove("problem");
    this.element.append(this.status, form);
    this.element.hidden = false;
    this.place(range);
    form.elements.category.focus({ preventScroll: true });
  },

  place(range) {
    this.element.style.top = "";
    const container = this.element.offsetParent;
    // Fixed over the bottom of a narrow screen (margin.css): nothing to place.
    if (!container || getComputedStyle(this.element).position === "fixed") return;
    const wanted = range ? range.getBoundingClientRect().top : GAP;
    const height = this.element.offsetHeight;
    const top = Math.max(GAP, Math.min(wanted, window.innerHeight - height - GAP));
    this.element.style.top = `${Math.round(top - container.getBoundingClientRect().top)}px`;
  },

  close() {
    if (!this.isOpen) return;
    this.element.hidden = true;
    if (this.box) this.box.append(this.status, form);
    const back = this.returnTo && this.returnTo.isConnected ? this.returnTo : this.box && this.box.querySelector("summary");
    if (back) back.focus({ preventScroll: true });
  },

  say(text, problem) {
    this.status.textContent = text;
    this.status.classList.toggle("problem", Boolean(problem));
  },
};
function setUpComposer() {
  if (!composer.element) return;
  // The status line travels with the form, between its box in the margin and the composer.
  if (composer.box) composer.box.insertBefore(composer.status, form);
  document.getElementById("composer-close").addEventListener("click", () => composer.close());
  composer.element.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      composer.close();
    }
  });
}

/** The form's fields, replaced by the server's rendering of them (errors by their fields, values kept). */
function replaceFormFields(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  const fresh = template.content.querySelector("#critique-form");
  if (!fresh) return false;
  form.replaceChildren(...fresh.childNodes);
  form.dispatchEvent(new CustomEvent("critique-form:replaced", { bubbles: true }));
  return true;
}

/** The first field with an error, focused and brought into view inside the composer without moving the page. */
function showFirstError() {
  const invalid = form.querySelector("[aria-invalid=true], .errorlist");
  if (!invalid) return;
  const field = invalid.matches(".errorlist") ? invalid.parentElement.querySelector("input, select, textarea") : invalid;
  if (!composer.isOpen) {
    // In its box in the margin the form is part of the page: show the error there.
    invalid.scrollIntoView({ block: "center" });
  } else {
    const scroller = composer.element;
    const offset = invalid.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
    if (offset < 0 || offset > scroller.clientHeight - 40) scroller.scrollTop += offset - 40;
  }
  if (field) field.focus({ preventScroll: true });
}

/**
 * Sending the form without a reload: the server answers JSON (with the form
 * as it would render it) when asked for it. Anything else (a login page, a
 * lost connection) falls back to the ordinary post.
 */
function setUpSending() {
  form.addEventListener("submit", async (event) => {
    if (!window.fetch || !composer.element) return;
    event.preventDefault();
    const button = event.submitter;
    if (button) button.disabled = true;
    let response;
    let answer;
    try {
      response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": form.elements.csrfmiddlewaretoken.value },
      });
      answer = (response.headers.get("Content-Type") || "").includes("application/json") ? await response.json() : null;
    } catch (error) {
      answer = null;
      response = null;
    } finally {
      if (button) button.disabled = false;
    }
    if (!response) {
      composer.say("The critique could not be sent: check your connection and press Submit again.", true);
      return;
    }
    if (!answer) {
      form.submit();
      return;
    }
    if (answer.form_html) replaceFormFields(answer.form_html);
    if (response.ok) {
      composer.say(answer.detail || "Your critique is awaiting review.");
      const link = document.createElement("a");
      link.href = answer.url;
      link.textContent = `Open critique ${answer.id}`;
      composer.status.append(" ", link);
      link.focus({ preventScroll: true });
    } else {
      composer.say(answer.detail || "Your critique was not filed: see the messages by the fields.", true);
      showFirstError();
    }
  });
}

function setUpQuoteTyping() {
  // A typed or edited quote no longer matches the selected positions: let the server find it.
  form.addEventListener("input", (event) => {
    if (event.target.name !== "exact") return;
    for (const name of ["start", "end", "prefix", "suffix"]) form.elements[name].value = "";
  });
}

function setUpCategoryHint() {
  // Delegated: the form's fields may be replaced by the server's rendering of them.
  document.addEventListener("change", (event) => {
    if (event.target.id !== "id_category") return;
    const hint = document.getElementById("category-hint");
    const guide = document.getElementById("category-guide");
    if (!hint || !guide) return;
    let definition = "";
    for (const entry of guide.querySelectorAll("[data-category]")) {
      const chosen = entry.dataset.category === event.target.value;
      entry.classList.toggle("selected", chosen);
      if (chosen) definition = entry.querySelector("dd").textContent;
    }
    hint.textContent = definition;
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

/**
 * The re-select mode (?reselect=): the author selects their critique's
 * passage again and takes it back to the edit page, by the button beside the
 * selection or the form's own (a typed quote is sent without positions, for
 * the server to find).
 */
const reselectForm = document.getElementById("reselect-form");

function useForReselect(passage) {
  for (const name of ["start", "end", "prefix", "suffix", "exact"]) {
    reselectForm.elements[`passage_${name}`].value = passage[name];
  }
  reselectForm.submit();
}

function setUpReselect(selectedPassage) {
  if (!reselectForm) return;
  const button = reselectForm.querySelector("button[type=submit]");
  const message = reselectForm.querySelector(".reselect-message");
  button.addEventListener("mousedown", (event) => event.preventDefault());
  reselectForm.elements.passage_exact.addEventListener("input", () => {
    for (const name of ["start", "end", "prefix", "suffix"]) reselectForm.elements[`passage_${name}`].value = "";
  });
  reselectForm.addEventListener("submit", (event) => {
    const passage = selectedPassage();
    if (passage) {
      event.preventDefault();
      useForReselect(passage);
    } else if (!reselectForm.elements.passage_exact.value.trim()) {
      event.preventDefault();
      message.textContent = "Select the passage in the text first, then press the button.";
      message.hidden = false;
    }
  });
}

/**
 * The edit page: what the author typed survives the trip to the reading
 * page to select the passage again (kept in sessionStorage for this tab,
 * put back when the page comes back with the new passage, dropped on saving).
 */
function setUpDraftKeeping() {
  const link = document.querySelector("a.reselect-link");
  const editForm = link && document.querySelector("form.critique-form");
  if (!editForm) return;
  const key = `apparatus-draft-${link.dataset.critique}`;
  const typed = (element) => element.name && element.type !== "hidden" && element.type !== "submit";
  link.addEventListener("click", () => {
    const values = {};
    for (const element of editForm.elements) {
      if (!typed(element) || ((element.type === "radio" || element.type === "checkbox") && !element.checked)) continue;
      values[element.name] = element.value;
    }
    sessionStorage.setItem(key, JSON.stringify(values));
  });
  editForm.addEventListener("submit", () => sessionStorage.removeItem(key));
  const saved = sessionStorage.getItem(key);
  if (!saved || !document.querySelector(".new-passage")) return;
  sessionStorage.removeItem(key);
  const values = JSON.parse(saved);
  for (const element of editForm.elements) {
    if (!typed(element) || !(element.name in values)) continue;
    if (element.type === "radio" || element.type === "checkbox") element.checked = element.value === values[element.name];
    else element.value = values[element.name];
    element.dispatchEvent(new Event("change", { bubbles: true }));
  }
}

setUpDraftKeeping();

if (textRoot) {
  const pieces = indexText(textRoot);
  const selectedPassage = passageReader(textRoot, pieces);
  if (form && critiqueButton) setUpSelection(selectedPassage);
  setUpReattach(selectedPassage);
  setUpReselect(selectedPassage);
}
if (form && form.elements.exact) {
  setUpQuoteTyping();
  setUpComposer();
  setUpSending();
}
setUpCategoryHint();
