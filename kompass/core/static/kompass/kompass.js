// Kompass: small progressive enhancements. Pages work without JavaScript.
document.addEventListener("htmx:afterSwap", function (event) {
  // Announce updated result counts to screen readers through the aria-live region.
  var count = event.detail.target.querySelector("[data-testid='result-count']");
  if (count) { count.setAttribute("role", "status"); }
});
