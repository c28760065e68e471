/*
 * The critique form's evidence rows: while "Web page" is chosen, a
 * reference's own fields (author, year, page or chapter, DOI, ISBN) are
 * hidden and disabled, so they are neither in the way nor sent. Without this
 * script every field shows and the server sorts them out.
 */

const referenceOnly = (row) => row.querySelector(".evidence-reference-only");

function chosenKind(row) {
  const checked = row.querySelector(".evidence-kind input:checked");
  return checked ? checked.value : "web";
}

function show(row) {
  const kind = chosenKind(row);
  const group = referenceOnly(row);
  row.dataset.evidenceKind = kind;
  if (!group) return;
  group.hidden = kind !== "reference";
  for (const input of group.querySelectorAll("input")) input.disabled = kind !== "reference";
}

function enhance(row) {
  const group = referenceOnly(row);
  // A web page row that came back with a reference's fields filled in keeps them in view:
  // the message beside it says what to do, and hiding them would lose the scholar's typing.
  if (chosenKind(row) === "web" && group && [...group.querySelectorAll("input")].some((input) => input.value)) return;
  show(row);
}

document.querySelectorAll(".evidence-row").forEach(enhance);
document.addEventListener("change", (event) => {
  const target = event.target;
  if (!(target instanceof HTMLInputElement) || !target.closest(".evidence-kind")) return;
  const row = target.closest(".evidence-row");
  if (row) show(row);
});
// Forms put into the page later (a composer opened in place) get the same treatment.
new MutationObserver((changes) => {
  for (const change of changes) {
    for (const node of change.addedNodes) {
      if (!(node instanceof Element)) continue;
      if (node.matches(".evidence-row")) enhance(node);
      node.querySelectorAll(".evidence-row").forEach(enhance);
    }
  }
}).observe(document.body, { childList: true, subtree: true });
