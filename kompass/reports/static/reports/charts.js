// The reports charts, drawn from the JSON each page embeds (the same numbers are in the table beside each chart).
(function () {
  "use strict";
  function read(id) { var node = document.getElementById(id); return node ? JSON.parse(node.textContent) : null; }
  function draw() {
    if (typeof window.Chart === "undefined") { return; }
    var trend = document.getElementById("trend-chart"), data = read("trend-chart-data");
    if (trend && data) {
      new window.Chart(trend, {
        type: "line",
        data: { labels: data.labels, datasets: [
          { label: trend.getAttribute("data-attainment-label"), data: data.attainment, borderColor: "#2a2859" },
          { label: trend.getAttribute("data-availability-label"), data: data.availability, borderColor: "#ff8274" }
        ] },
        options: { animation: false, responsive: true, spanGaps: false, scales: { y: { max: 100 } } }
      });
      trend.setAttribute("data-rendered", "1");
    }
    var agencies = document.getElementById("agency-chart"), rows = read("agency-chart-data");
    if (agencies && rows) {
      new window.Chart(agencies, {
        type: "bar",
        data: { labels: rows.labels, datasets: [{ label: agencies.getAttribute("data-label"), data: rows.attainment, backgroundColor: "#2a2859" }] },
        options: { animation: false, responsive: true, scales: { y: { min: 0, max: 100 } } }
      });
      agencies.setAttribute("data-rendered", "1");
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
