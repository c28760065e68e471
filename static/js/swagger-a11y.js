/*
 * What Swagger UI leaves out for screen readers and keyboards, added as it renders:
 * a name for each parameter's choice of values (the parameter's own name), and a
 * keyboard stop on the code examples, which scroll.
 */
(function () {
  'use strict';
  function mend(root) {
    root.querySelectorAll('tr[data-param-name] select:not([aria-label])').forEach(function (select) {
      select.setAttribute('aria-label', select.closest('tr').dataset.paramName);
    });
    root.querySelectorAll('pre.microlight:not([tabindex]), .body-param__example:not([tabindex])').forEach(function (code) {
      code.tabIndex = 0;
    });
  }
  function start() {
    var root = document.getElementById('swagger-ui');
    if (!root) return;
    mend(root);
    new MutationObserver(function () { mend(root); }).observe(root, {childList: true, subtree: true});
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
