// The contract page's progress chart: a stacked bar per milestone, from the JSON the page embeds.
// The same numbers are in the table below it, which is what screen readers use.
(function () {
  "use strict";
  var COLOURS = {
    not_started: "#d0d0d0", in_progress: "#6fe9ff", ready: "#f9c66b", verified: "#43f8b6",
    approved: "#034b45", deviation: "#ff8274", not_applicable: "#9a9a9a"
  };
  function draw() {
    var canvas = document.getElementById("progress-chart");
    var source = document.getElementById("progress-chart-data");
    if (!canvas || !source || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    data.datasets.forEach(function (set) { set.backgroundColor = COLOURS[set.status] || "#2a2859"; });
    new window.Chart(canvas, {
      type: "bar",
      data: data,
      options: {
        animation: false,
        responsive: true,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
