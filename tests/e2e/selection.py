"""Selecting a passage in the browser with the mouse, by code-point offsets."""

# The points on screen just inside the first and the last character of a
# passage, found from its code-point offsets through the page's data-o runs.
CHARACTER_BOXES = """([start, end]) => {
  function locate(offset) {
    for (const element of document.querySelectorAll('#document-text [data-o]')) {
      const first = Number(element.dataset.o);
      const chars = Array.from(element.textContent);
      if (element.tagName !== 'BR' && !element.hasAttribute('data-gap') && first <= offset && offset < first + chars.length) {
        return [element.firstChild, chars.slice(0, offset - first).join('').length];
      }
    }
    throw new Error('no run holds offset ' + offset);
  }
  function box(offset) {
    const [node, index] = locate(offset);
    const range = document.createRange();
    const width = node.data.codePointAt(index) > 0xffff ? 2 : 1;
    range.setStart(node, index);
    range.setEnd(node, index + width);
    const rect = range.getBoundingClientRect();
    return {left: rect.left, right: rect.right, top: rect.top, bottom: rect.bottom};
  }
  locate(start)[0].parentElement.scrollIntoView({block: 'center'});
  const first = box(start);
  const last = box(end - 1);
  return {first, last};
}"""


def drag_select(page, start, end):
    """Select text[start:end] with the mouse: press before the first character, release after the last."""
    boxes = page.evaluate(CHARACTER_BOXES, [start, end])
    first, last = boxes["first"], boxes["last"]
    page.mouse.move(first["left"] + 1, (first["top"] + first["bottom"]) / 2)
    page.mouse.down()
    page.mouse.move((first["left"] + last["right"]) / 2, (first["top"] + last["bottom"]) / 2, steps=5)
    page.mouse.move(last["right"] - 1, (last["top"] + last["bottom"]) / 2, steps=5)
    page.mouse.up()
