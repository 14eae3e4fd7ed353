// The contract page's charts, from the JSON the page embeds: progress (a stacked bar per milestone) and the
// burn-up (done over time against the scope). The same numbers are in the tables below them, which is what
// screen readers use.
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
  function drawBurnup() {
    var canvas = document.getElementById("burnup-chart");
    var source = document.getElementById("burnup-chart-data");
    if (!canvas || !source || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    data.datasets.forEach(function (set) {
      set.borderColor = set.key === "done" ? "#034b45" : "#2a2859";
      set.backgroundColor = set.borderColor;
      set.borderDash = set.key === "scope" ? [6, 4] : [];
      set.stepped = set.key === "done";
      set.pointRadius = set.key === "done" ? 3 : 0;
    });
    new window.Chart(canvas, {
      type: "line",
      data: data,
      options: { animation: false, responsive: true, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }
  function drawAll() { draw(); drawBurnup(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", drawAll); } else { drawAll(); }
})();
