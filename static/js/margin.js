/**
 * The reading page's margin, beside the text: each note level with its
 * passage on wide screens, two-way navigation between highlights and notes,
 * next/previous critique keys, and on narrow screens a note opened in a sheet
 * over the bottom of the screen without moving the reader.
 *
 * Keyed on the markup only: highlights are mark.hl[data-critiques] (the ids
 * of the critiques covering them), markers a.marker[data-critique], notes
 * .critique-note[data-critique] in #critique-list. Without this script the
 * margin is the complete list of notes in text order, and the markers link
 * to their notes.
 *
 * A note in the margin shows the first words of its explanation; opening it
 * (its highlight, its marker, the note itself, j/k) loads the whole note from
 * its data-note address into its .note-body. Without this script the note's
 * permalink leads to the critique's own page.
 *
 * Other scripts may ask for a new layout (after hiding or showing notes) with
 * document.dispatchEvent(new Event("margin:layout")) or "apparatus:layout"
 * (the category filter's); hidden notes are left out of the stacking.
 */
const textRoot = document.getElementById("document-text");
const list = document.getElementById("critique-list");
// As the two-column layout in apparatus.css (max-width: 50rem is one column).
const WIDE = window.matchMedia("(min-width: 50.01rem)");
const GAP = 8;  // px between stacked notes
const FLASH_MS = 2000;

const noteOf = new Map();  // critique id -> its note in the margin
const marksOf = new Map();  // critique id -> its highlights, in text order

function isShown(element) {
  return element.getClientRects().length > 0;
}

function isTyping(target) {
  return Boolean(target.closest && target.closest("input, textarea, select, [contenteditable]:not([contenteditable=false])"));
}

function indexApparatus() {
  for (const note of list.querySelectorAll(":scope > .critique-note[data-critique]")) {
    noteOf.set(note.dataset.critique, note);
  }
  for (const mark of textRoot.querySelectorAll("mark.hl[data-critiques]")) {
    const ids = mark.dataset.critiques.split(" ").filter(Boolean);
    for (const id of ids) {
      if (!marksOf.has(id)) marksOf.set(id, []);
      marksOf.get(id).push(mark);
    }
    // Tie the highlight to a note for assistive technology (the first critique with one here).
    const described = ids.find((id) => noteOf.has(id));
    if (described) mark.setAttribute("aria-details", `critique-${described}`);
  }
}

/** The critiques with a note and a highlight, in text order (as the server lists the notes). */
function placedIds() {
  return [...noteOf.keys()].filter((id) => marksOf.has(id) && isShown(noteOf.get(id)));
}

// --- Notes level with their passages ------------------------------------------------

let aligned = false;
let layoutPending = 0;

/**
 * Each note at its passage's top, or just below the note before it where
 * passages are close: sorted by passage top, top = max(passage top,
 * previous bottom + GAP). All measuring first, then all writing.
 */
function layOut() {
  layoutPending = 0;
  if (!aligned) return;
  const listTop = list.getBoundingClientRect().top;
  const entries = [];
  let previousWant = 0;
  let order = 0;
  for (const [id, note] of noteOf) {
    if (!isShown(note)) continue;
    const mark = (marksOf.get(id) || []).find(isShown);
    const want = mark ? mark.getBoundingClientRect().top - listTop : previousWant;
    previousWant = want;
    entries.push({ note, want, order: order++, height: note.offsetHeight });
  }
  entries.sort((a, b) => a.want - b.want || a.order - b.order);
  let bottom = -GAP;
  for (const entry of entries) {
    entry.top = Math.max(0, entry.want, bottom + GAP);
    bottom = entry.top + entry.height;
  }
  for (const entry of entries) entry.note.style.top = `${Math.round(entry.top)}px`;
  list.style.height = `${Math.max(0, Math.ceil(bottom))}px`;
}

function layOutSoon() {
  if (!layoutPending) layoutPending = requestAnimationFrame(layOut);
}

function applyLayout() {
  aligned = WIDE.matches;
  list.classList.toggle("aligned", aligned);
  if (aligned) {
    layOut();
  } else {
    list.style.height = "";
    for (const note of noteOf.values()) note.style.top = "";
  }
}

// --- Highlights and notes, both ways ---------------------------------------------------

const loading = new Map();  // critique id -> the promise of its whole note

/** The whole explanation and evidence of a note, in place of its excerpt (once). */
function loadNote(note) {
  const id = note.dataset.critique || note.id.replace("critique-", "");
  if (!note.dataset.note) return Promise.resolve();
  if (!loading.has(id)) {
    const request = fetch(note.dataset.note, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then((answer) => (answer.ok ? answer.text() : Promise.reject(new Error(`${answer.status}`))))
      .then((html) => {
        // The server's sanitized HTML of the critique (annotations.rendering), as on its own page.
        note.querySelector(".note-body").innerHTML = html;
        delete note.dataset.note;
        note.classList.add("note-loaded");
        layOutSoon();
      })
      .catch(() => { loading.delete(id); });  // the excerpt and the permalink stay; another opening tries again
    loading.set(id, request);
  }
  return loading.get(id);
}

function setActive(id) {
  for (const active of document.querySelectorAll(".critique-note.active, mark.hl.active")) {
    active.classList.remove("active");
  }
  const note = noteOf.get(id);
  if (note) {
    note.classList.add("active");
    loadNote(note);
  }
  for (const mark of marksOf.get(id) || []) mark.classList.add("active");
}

function scrollIntoViewIfNeeded(element) {
  const box = element.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) element.scrollIntoView({ block: "nearest" });
}

/** A highlight or marker was activated: its note, in view and focused (or in the sheet on a phone). */
function openNote(id, from) {
  const note = noteOf.get(id);
  if (!note) return;
  setActive(id);
  if (aligned) {
    scrollIntoViewIfNeeded(note);
    note.focus({ preventScroll: true });
  } else {
    sheet.open(id, from);
  }
}

/** A note (or its "In the text" link) was activated: its passage, in view, marked for a moment. */
function openPassage(id) {
  const marks = marksOf.get(id);
  if (!marks) return;
  setActive(id);
  const first = marks[0];
  first.scrollIntoView({ block: "center" });
  for (const mark of marks) {
    mark.classList.remove("flash");
    void mark.offsetWidth;  // restart the animation
    mark.classList.add("flash");
  }
  setTimeout(() => { for (const mark of marks) mark.classList.remove("flash"); }, FLASH_MS);
  first.focus({ preventScroll: true });
}

/** The first critique of a highlight whose note is shown (a category filter may hide some), else with a note. */
function critiqueOfMark(mark) {
  const ids = (mark.dataset.critiques || "").split(" ").filter((id) => noteOf.has(id));
  return ids.find((id) => isShown(noteOf.get(id))) || ids[0];
}

function setUpHighlights() {
  let pointerDown = false;
  textRoot.addEventListener("pointerdown", () => { pointerDown = true; });
  const released = () => { setTimeout(() => { pointerDown = false; }, 0); };
  document.addEventListener("pointerup", released);
  document.addEventListener("pointercancel", released);

  textRoot.addEventListener("click", (event) => {
    const marker = event.target.closest("a.marker[data-critique]");
    if (marker && noteOf.has(marker.dataset.critique)) {
      event.preventDefault();
      openNote(marker.dataset.critique, marker);
      return;
    }
    const mark = event.target.closest("mark.hl");
    const selection = document.getSelection();
    // A drag that selects text is not a click on the highlight.
    if (!mark || (selection && !selection.isCollapsed)) return;
    const id = critiqueOfMark(mark);
    if (id) openNote(id, mark);
  });
  // Tabbing onto a highlight shows which note it has, without moving anything.
  textRoot.addEventListener("focusin", (event) => {
    const mark = event.target.closest("mark.hl");
    if (!mark || pointerDown) return;
    const id = critiqueOfMark(mark);
    if (id) setActive(id);
  });
  textRoot.addEventListener("keydown", (event) => {
    const mark = event.target.closest("mark.hl");
    if (!mark || (event.key !== "Enter" && event.key !== " ")) return;
    const id = critiqueOfMark(mark);
    if (!id) return;
    event.preventDefault();
    openNote(id, mark);
  });
}

function setUpNotes() {
  list.addEventListener("click", (event) => {
    const note = event.target.closest(".critique-note[data-critique]");
    if (!note) return;
    if (event.target.closest("a.to-passage")) {
      event.preventDefault();
    } else if (event.target.closest("a, button, input, textarea, select, summary, label, form")) {
      return;
    }
    const selection = document.getSelection();
    if (selection && !selection.isCollapsed && note.contains(selection.anchorNode)) return;  // copying from the note
    openPassage(note.dataset.critique);
  });
  list.addEventListener("keydown", (event) => {
    const note = event.target.closest(".critique-note[data-critique]");
    if (note && event.target === note && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      openPassage(note.dataset.critique);
    }
  });
}

// --- Next and previous critique: j and k --------------------------------------------------

function setUpKeys() {
  const help = document.getElementById("keys-help");
  if (help) help.hidden = false;
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    if (event.key !== "j" && event.key !== "k") return;
    const ids = placedIds();
    if (!ids.length) return;
    const forward = event.key === "j";
    const active = document.querySelector(".critique-note.active[data-critique]");
    let index = active ? ids.indexOf(active.dataset.critique) : -1;
    if (index >= 0) {
      index = forward ? Math.min(index + 1, ids.length - 1) : Math.max(index - 1, 0);
    } else {
      // Nothing chosen yet: the first passage below the top of the screen, or the last above it.
      const tops = ids.map((id) => marksOf.get(id)[0].getBoundingClientRect().top);
      index = forward ? tops.findIndex((top) => top > 1) : tops.findLastIndex((top) => top < -1);
      if (index < 0) index = forward ? ids.length - 1 : 0;
    }
    event.preventDefault();
    sheet.close(false);
    openPassage(ids[index]);
  });
}

// --- A note in a sheet, on narrow screens ---------------------------------------------------

const sheet = {
  element: null,
  body: null,
  returnTo: null,
  shown: null,
  scroll: null,

  build() {
    const element = document.createElement("div");
    element.className = "note-sheet";
    element.id = "note-sheet";
    element.hidden = true;
    element.tabIndex = -1;
    element.setAttribute("role", "dialog");
    element.setAttribute("aria-labelledby", "note-sheet-title");
    const bar = document.createElement("div");
    bar.className = "sheet-bar";
    const title = document.createElement("h2");
    title.id = "note-sheet-title";
    const close = document.createElement("button");
    close.type = "button";
    close.className = "sheet-close";
    close.textContent = "Close";
    close.addEventListener("click", () => this.close(true));
    bar.append(title, close);
    // A list, as the note copied into it is a list item of the margin's list.
    this.body = document.createElement("ol");
    this.body.className = "sheet-body";
    element.append(bar, this.body);
    element.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.close(true);
      }
    });
    element.addEventListener("click", (event) => {
      const link = event.target.closest("a.to-passage[data-critique]");
      if (!link) return;
      event.preventDefault();
      this.close(false);
      openPassage(link.dataset.critique);
    });
    document.body.append(element);
    this.element = element;
    this.title = title;
  },

  /** The note of critique ``id``, over the bottom of the screen; the highlight stays in sight. */
  open(id, from) {
    if (!this.element) this.build();
    const note = noteOf.get(id);
    if (this.element.hidden) {
      this.scroll = [window.scrollX, window.scrollY];
      this.returnTo = from || document.activeElement;
    }
    this.show(note);
    // The whole note arrives after the excerpt: the sheet shows it once it is there.
    loadNote(note).then(() => { if (!this.element.hidden && this.shown === note) this.show(note); });
    // The note names its category itself: the title only says which critique this is.
    this.title.textContent = `Critique ${id}`;
    this.element.hidden = false;
    this.element.focus({ preventScroll: true });
    // If the sheet covers the highlight, lift the page just enough; closing puts it back.
    const mark = from && from.closest("mark, a") ? from : (marksOf.get(id) || [])[0];
    if (mark) {
      const sheetTop = this.element.getBoundingClientRect().top;
      const box = mark.getBoundingClientRect();
      document.body.style.paddingBottom = `${this.element.offsetHeight}px`;
      if (box.bottom > sheetTop - GAP) window.scrollBy(0, box.bottom - sheetTop + 2 * GAP);
      else if (box.top < 0) window.scrollBy(0, box.top - 2 * GAP);
    }
  },

  /** A copy of ``note`` in the sheet. */
  show(note) {
    const copy = note.cloneNode(true);
    copy.removeAttribute("id");
    copy.removeAttribute("tabindex");
    for (const element of copy.querySelectorAll("[id]")) element.removeAttribute("id");
    copy.classList.remove("active"); // the sheet is the emphasis: no second outline inside it
    this.body.replaceChildren(copy);
    this.shown = note;
  },

  /** Close the sheet; ``restore``: the reader's place and the focus back where they were. */
  close(restore) {
    if (!this.element || this.element.hidden) return;
    this.element.hidden = true;
    document.body.style.paddingBottom = "";
    if (restore) {
      window.scrollTo(this.scroll[0], this.scroll[1]);
      if (this.returnTo && this.returnTo.isConnected) this.returnTo.focus({ preventScroll: true });
    }
  },
};

// --- Arriving at #critique-<id> ----------------------------------------------------------------

/** The passage and its note both in view (on a narrow screen: the passage, with its note in the sheet). */
function openFromAddress() {
  const match = /^#critique-(\d+)$/.exec(window.location.hash);
  if (!match || !marksOf.has(match[1]) || !noteOf.has(match[1])) return;
  const id = match[1];
  const mark = marksOf.get(id)[0];
  const note = noteOf.get(id);
  setActive(id);
  if (!aligned) {
    mark.scrollIntoView({ block: "start" });
    window.scrollBy(0, -2 * GAP);
    sheet.open(id, mark);
    return;
  }
  const markBox = mark.getBoundingClientRect();
  const noteBox = note.getBoundingClientRect();
  const top = Math.min(markBox.top, noteBox.top);
  const bottom = Math.max(markBox.bottom, noteBox.bottom);
  const room = window.innerHeight - (bottom - top);
  // Both fit: centre the pair; otherwise the passage near the top, the note's start beside it.
  window.scrollBy(0, room > 0 ? top - room / 2 : markBox.top - 4 * GAP);
  note.focus({ preventScroll: true });
}

if (textRoot && list) {
  indexApparatus();
  applyLayout();
  WIDE.addEventListener("change", applyLayout);
  const watcher = new ResizeObserver(layOutSoon);
  watcher.observe(textRoot);
  for (const note of noteOf.values()) watcher.observe(note);
  // Whatever sits above the text or the list (provenance, the form's box, a summary) moves one column only.
  for (const start of [textRoot, list]) {
    for (let element = start; element && element !== document.body; element = element.parentElement) {
      for (let above = element.previousElementSibling; above; above = above.previousElementSibling) {
        watcher.observe(above);
      }
    }
  }
  document.addEventListener("margin:layout", layOutSoon);
  document.addEventListener("apparatus:layout", layOutSoon);  // the category filter showed or hid notes
  if (document.fonts) document.fonts.ready.then(layOutSoon);
  setUpHighlights();
  setUpNotes();
  setUpKeys();
  // Notes outside the list (critiques of earlier versions) load when the reader reaches them too.
  for (const type of ["focusin", "click"]) {
    document.addEventListener(type, (event) => {
      const note = event.target.closest && event.target.closest(".critique-note[data-note]");
      if (note) loadNote(note);
    });
  }
  openFromAddress();
  // The browser's own jump to the fragment may come after this script: place the pair again once loaded.
  window.addEventListener("load", () => { layOut(); openFromAddress(); }, { once: true });
  window.addEventListener("hashchange", openFromAddress);
}
