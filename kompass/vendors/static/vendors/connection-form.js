// The vendor connection form: show only the fieldset of the chosen transport (kind). Loaded from a file (no
// inline script under the CSP); without it every fieldset is shown and the server ignores the other kind's fields.
(function () {
  "use strict";
  var form = document.querySelector("form[data-connection-form]");
  if (!form) { return; }
  var kind = form.querySelector("select[name='kind']");
  if (!kind) { return; }

  function show() {
    Array.prototype.forEach.call(form.querySelectorAll("fieldset[data-transport]"), function (fieldset) {
      var other = fieldset.getAttribute("data-transport") !== kind.value;
      fieldset.hidden = other;
      fieldset.style.display = other ? "none" : "";  // CSSOM, allowed under the CSP; beats a class's display
    });
    var hint = form.querySelector("[data-transport-hint]");
    if (hint) { hint.hidden = true; }
  }

  kind.addEventListener("change", show);
  show();
})();
