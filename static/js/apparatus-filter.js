/*
 * The apparatus at a glance (templates/annotations/_apparatus_summary.html):
 * the category filter and "Hide highlights" act in place, keeping the
 * reader's place, and a search hit's passage (?mark=…#mark) is brought into
 * view. Without this script the same form is a GET the server honours.
 *
 * Classes it sets (margin positioning listens for `apparatus:layout`):
 * - `.filtered-out` on a `.critique-note` whose category is not shown, on a
 *   `mark.hl` none of whose critiques is shown, and on a `.marker` of a
 *   critique not shown;
 * - `.highlights-off` on `#document-text` while the highlights are hidden.
 * Every change dispatches `apparatus:layout` on `document`, with
 * `detail: {categories, highlights}`.
 */

const form = document.getElementById("apparatus-filter");
const text = document.getElementById("document-text");

function categoryOf(note) {
  for (const name of note.classList) if (name.startsWith("cat-")) return name.slice(4);
  return "";
}

/* The first block of the text that is still on screen, and where: restored after a change. */
function readingPlace() {
  for (const block of text.querySelectorAll("[data-start]")) {
    const box = block.getBoundingClientRect();
    if (box.bottom > 0) return { block, top: box.top };
  }
  return null;
}

function keepPlace(place) {
  if (!place) return;
  const moved = place.block.getBoundingClientRect().top - place.top;
  if (Math.abs(moved) >= 1) window.scrollBy(0, moved);
}

function chosen() {
  const categories = new Set();
  for (const box of form.querySelectorAll('input[name="category"]')) if (box.checked) categories.add(box.value);
  return { categories, highlights: !form.querySelector("#glance-highlights").checked };
}

function apply() {
  const { categories, highlights } = chosen();
  // A page the server already filtered lacks what it left out: let it render the page again.
  const missing = form.dataset.filtered === "1" || (form.dataset.highlights === "off" && highlights);
  if (missing) {
    form.submit();
    return;
  }
  const place = readingPlace();
  const categoryById = new Map();
  let shown = 0;
  const notes = document.querySelectorAll(".critique-note[id^='critique-']");
  for (const note of notes) {
    const category = categoryOf(note);
    categoryById.set(note.id.slice("critique-".length), category);
    const on = categories.has(category);
    note.classList.toggle("filtered-out", !on);
    if (on) shown += 1;
  }
  for (const mark of text.querySelectorAll("mark.hl")) {
    const ids = (mark.dataset.critiques || "").split(" ").filter(Boolean);
    const on = ids.some((id) => categories.has(categoryById.get(id)));
    mark.classList.toggle("filtered-out", !on);
    // A highlight that isn't shown is not a stop for the keyboard either.
    mark.tabIndex = on && highlights ? 0 : -1;
  }
  for (const marker of text.querySelectorAll(".marker[data-critique]")) {
    marker.classList.toggle("filtered-out", !categories.has(categoryById.get(marker.dataset.critique)));
  }
  text.classList.toggle("highlights-off", !highlights);
  keepPlace(place);

  const url = new URL(window.location.href);
  for (const name of ["filter", "category", "highlights"]) url.searchParams.delete(name);
  if (categories.size < form.querySelectorAll('input[name="category"]').length) {
    url.searchParams.set("filter", "1");
    for (const category of categories) url.searchParams.append("category", category);
  }
  if (!highlights) url.searchParams.set("highlights", "off");
  history.replaceState(history.state, "", url);

  const status = document.getElementById("glance-status");
  status.textContent = `Showing ${shown} of ${notes.length} critiques${highlights ? "" : "; highlights hidden"}.`;
  document.dispatchEvent(
    new CustomEvent("apparatus:layout", { detail: { categories: [...categories], highlights } }),
  );
}

function showFound() {
  const found = document.getElementById("mark");
  if (!found) return;
  // After the margin has placed its notes, so nothing moves the passage afterwards.
  requestAnimationFrame(() => {
    found.scrollIntoView({ block: "center" });
    found.focus({ preventScroll: true });
  });
}

if (form && text) {
  form.classList.add("live");
  form.addEventListener("change", apply);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
}
if (document.readyState === "complete") showFound();
else window.addEventListener("load", showFound, { once: true });
