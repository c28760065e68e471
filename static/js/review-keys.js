/**
 * Keyboard shortcuts of the review queue and of an item's review page.
 *
 *   a  approve             c  request changes (into the reason box)
 *   r  reject (into the reason box)        n  next free item
 *   ?  show or hide the list of shortcuts
 *
 * Request changes and reject need a reason: their key puts the moderator in
 * the reason box and arms that decision; Ctrl+Enter (or ⌘+Enter) there sends
 * it, Esc leaves the box. No key fires while one types in a field.
 */

const LABELS = { request_changes: "request changes", reject: "reject" };

function isTyping(target) {
  return Boolean(target.closest && target.closest("input, textarea, select, [contenteditable]:not([contenteditable=false])"));
}

// Only the review page has one decision form the keys can mean; the queue's many have none.
const form = document.querySelector(".review .decision-form");
const reason = form && form.querySelector("textarea[name=reason]");
const hint = form && document.createElement("p");
if (hint) {
  hint.className = "shortcut-hint muted";
  hint.setAttribute("aria-live", "polite");
  reason.after(hint);
}

function button(action) {
  return form && form.querySelector(`button[name=action][value=${action}]`);
}

function arm(action) {
  form.dataset.armed = action;
  hint.textContent = `Give the reason, then Ctrl+Enter to ${LABELS[action]}.`;
  reason.focus();
}

function send(action) {
  const chosen = button(action);
  if (chosen) form.requestSubmit(chosen);
}

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
  const key = event.key;
  if (key === "?") {
    const list = document.getElementById("shortcuts");
    if (list) list.open = !list.open;
  } else if (key === "n") {
    const next = document.querySelector("[data-shortcut=n]");
    if (!next) return;
    window.location.assign(next.href);
  } else if (key === "a" && button("approve")) {
    send("approve");
  } else if ((key === "c" || key === "r") && button(key === "c" ? "request_changes" : "reject")) {
    arm(key === "c" ? "request_changes" : "reject");
  } else {
    return;
  }
  event.preventDefault();
});

if (reason) {
  reason.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      reason.blur();
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && form.dataset.armed) {
      event.preventDefault();
      send(form.dataset.armed);
    }
  });
  // After a refused decision the page comes back with the moderator's action armed again.
  if (form.dataset.failedAction in LABELS) arm(form.dataset.failedAction);
}

// A decision refused on the queue comes back at #critique-N: the browser scrolls there but skips `autofocus`
// (and resets focus once it has scrolled, after the load). Focus the reason the moderator typed then, so they
// can correct it in place.
const refused = document.querySelector(".decision-form textarea[autofocus]");
function focusRefused() {
  if (document.activeElement !== refused) refused.focus();  // scrolls the box into view if the item is tall
}
if (refused) {
  if (document.readyState === "complete") setTimeout(focusRefused);
  else window.addEventListener("load", () => setTimeout(focusRefused), { once: true });
}
