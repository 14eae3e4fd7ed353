// The transformation page: positions the wave bars (no inline styles under the CSP) and draws the burn-down.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".kp-timeline__bar").forEach(function (bar) {
      bar.style.left = bar.getAttribute("data-offset") + "%";
      bar.style.width = bar.getAttribute("data-width") + "%";
    });
    var canvas = document.getElementById("burndown-chart");
    var source = document.getElementById("burndown-data");
    if (!canvas || !source || !window.Chart) { return; }
    var d = JSON.parse(source.textContent);
    var label = function (key) { return canvas.closest("section").querySelector("thead th:nth-child(" + key + ")").textContent; };
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: d.labels,
        datasets: [
          { label: label(2), data: d.systems_planned, borderColor: "#2a2859", borderDash: [6, 4] },
          { label: label(3), data: d.systems_actual, borderColor: "#2a2859" },
          { label: label(4), data: d.items_planned, borderColor: "#c9302c", borderDash: [6, 4] },
          { label: label(5), data: d.items_actual, borderColor: "#c9302c" }
        ]
      },
      options: { animation: false, spanGaps: false, scales: { y: { beginAtZero: true } } }
    });
  });
})();
