// The surveys charts, drawn from the JSON the page embeds (the same numbers are in the table beside each).
(function () {
  "use strict";
  var COLOURS = ["#2a2859", "#f9c66b", "#ff8274", "#6fe9ff"];
  function read(id) { var node = document.getElementById(id); return node ? JSON.parse(node.textContent) : null; }
  function line(canvas, labels, sets) {
    new window.Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: sets },
      options: { animation: false, responsive: true, spanGaps: false, scales: { y: { min: 1, max: 5 } } }
    });
    canvas.setAttribute("data-rendered", "1");
  }
  function draw() {
    if (typeof window.Chart === "undefined") { return; }
    var heat = document.getElementById("trend-chart"), data = read("trend-chart-data");
    if (heat && data) {
      var sets = [{ label: heat.getAttribute("data-average-label"), data: data.average, borderColor: COLOURS[0] }];
      if (data.expected) {
        sets.push({ label: heat.getAttribute("data-expected-label"), borderColor: COLOURS[2], borderDash: [6, 4],
                    data: data.labels.map(function () { return data.expected; }) });
      }
      line(heat, data.labels, sets);
    }
    var agency = document.getElementById("agency-chart"), series = read("agency-chart-data");
    if (agency && series) {
      var lines = series.series.map(function (s, i) { return { label: s.label, data: s.data, borderColor: COLOURS[i + 1] }; });
      lines.push({ label: agency.getAttribute("data-average-label"), data: series.average, borderColor: COLOURS[0], borderDash: [4, 4] });
      line(agency, series.labels, lines);
    }
    var scatter = document.getElementById("scatter-chart"), points = read("scatter-chart-data");
    if (scatter && points) {
      new window.Chart(scatter, {
        type: "scatter",
        data: { datasets: [{ label: points.y_label, data: points.points, backgroundColor: COLOURS[0] }] },
        options: {
          animation: false, responsive: true,
          plugins: { tooltip: { callbacks: { label: function (c) {
            return c.raw.label + ": " + c.raw.y.toFixed(2) + " / " + c.raw.x + " %"; } } } },
          scales: { x: { min: 0, max: 100, title: { display: true, text: points.x_label } },
                    y: { min: 1, max: 5, title: { display: true, text: points.y_label } } }
        }
      });
      scatter.setAttribute("data-rendered", "1");
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
