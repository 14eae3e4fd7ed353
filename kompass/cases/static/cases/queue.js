// The queue's keyboard shortcuts: j/k move, x selects, a assigns the selected, / searches, Enter opens, ? helps.
// Loaded from a file (no inline script under the CSP); the page works without it.
(function () {
  "use strict";
  var current = -1;

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("table[data-queue] tbody tr[data-case]")); }

  function focusRow(index) {
    var all = rows();
    if (!all.length) { return; }
    current = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row, i) { row.classList.toggle("kp-row--current", i === current); });
    var link = all[current].querySelector("a");
    if (link) { link.focus(); }
  }

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function help(open) {
    var dialog = document.getElementById("shortcuts");
    if (!dialog || !dialog.showModal) { return; }
    if (open && !dialog.open) { dialog.showModal(); } else if (!open && dialog.open) { dialog.close(); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var all = rows();
    switch (event.key) {
      case "j": focusRow(current + 1); break;
      case "k": focusRow(current - 1); break;
      case "x":
        if (current >= 0 && all[current]) {
          var box = all[current].querySelector("input[type=checkbox]");
          if (box) { box.checked = !box.checked; }
        }
        break;
      case "a":
        var action = document.getElementById("bulk_action");
        var assignee = document.getElementById("bulk_assignee");
        if (action && assignee) { action.value = "assign"; assignee.focus(); }
        break;
      case "/":
        var search = document.getElementById("id_q");
        if (search) { search.focus(); search.select(); }
        break;
      case "?": help(true); break;
      default: return;
    }
    event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-shortcuts-open]")) { help(true); }
    if (event.target.closest("[data-shortcuts-close]")) { help(false); }
  });
  // A new page of results (htmx) starts before its first row again.
  document.addEventListener("htmx:afterSwap", function () { current = -1; });
})();
